package deadletter

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Filter selects dead letters; zero fields select everything.
type Filter struct {
	IDs          []string  // these letters only
	Stage        string    // ingest, aggregator or submitter
	Reason       string    // a reason code
	Product      string    // the event's or record's product
	Subscription string    // the event's subject, the record's subscription
	Period       time.Time // an instant inside the letter's period (letters of unknown period never match)
	Since, Until time.Time // dead-lettered at or after Since, before Until
	Open         bool      // open letters only (never replayed, refused, interrupted)
	Source       string    // letters holding an event of this source…
	EventID      string    // …and id (both given: the event's idempotency key)
	Record       string    // letters holding a record of this origin id (events.PeriodRecord.OriginID)
}

// String describes the filter, for the replay log.
func (f Filter) String() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("ids", strings.Join(f.IDs, ","))
	add("stage", f.Stage)
	add("reason", f.Reason)
	add("product", f.Product)
	add("subject", f.Subscription)
	add("period", timeText(f.Period))
	add("since", timeText(f.Since))
	add("until", timeText(f.Until))
	add("source", f.Source)
	add("event", f.EventID)
	add("record", f.Record)
	if f.Open {
		parts = append(parts, "open")
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// matchStored reports whether l passes the filter as stored, its replay state aside (Open).
func (f Filter) matchStored(l *Letter) bool {
	switch {
	case len(f.IDs) > 0 && !slices.Contains(f.IDs, l.ID),
		f.Stage != "" && l.Stage != f.Stage,
		f.Reason != "" && string(l.Reason) != f.Reason,
		f.Product != "" && l.Product != f.Product,
		f.Subscription != "" && l.Subscription != f.Subscription,
		!f.Since.IsZero() && l.At.Before(f.Since),
		!f.Until.IsZero() && !l.At.Before(f.Until),
		f.Source != "" && (l.Event == nil || l.Event.Source != f.Source),
		f.EventID != "" && (l.Event == nil || l.Event.ID != f.EventID),
		f.Record != "" && (l.Record == nil || l.Record.OriginID() != f.Record):
		return false
	case !f.Period.IsZero():
		return !l.PeriodStart.IsZero() && !f.Period.Before(l.PeriodStart) && f.Period.Before(l.PeriodEnd)
	}
	return true
}

// reads are the stream reads that may hold letters the filter selects.
func (f Filter) reads() []read {
	var out []read
	if f.Stage != events.StageAggregator {
		filter := subjects.AllDLQ
		switch {
		case f.Stage != "" && f.Reason != "":
			filter = subjects.DeadLetters(f.Stage, events.Reason(f.Reason))
		case f.Stage != "":
			filter = subjects.StageDeadLetters(f.Stage)
		}
		out = append(out, read{stream: bus.StreamDLQ, filter: filter})
	}
	if f.Stage == "" || f.Stage == events.StageAggregator {
		out = append(out, read{stream: bus.StreamAgg, filter: subjects.AllAggDeadLetters})
	}
	for i := range out {
		out[i].since = f.Since
	}
	return out
}

// read is one stream read of letters; skip, when set, says from a message's bytes that it holds no letter
// the filter selects (it is not decoded).
type read struct {
	stream, filter string
	since          time.Time
	skip           func(data []byte) bool
}

// cannotHold reports, from a stored message's bytes, that it holds no letter of the filter's event id: the id
// does not occur in it, and no payload is stored base64-encoded (payload_bytes). Only ids that JSON writes as
// they are (printable ASCII without quotes, backslashes or HTML characters) are looked for so.
func (f Filter) cannotHold(data []byte) bool {
	if f.EventID == "" || prefilter(map[events.Key]bool{{ID: f.EventID}: true}) == nil {
		return false
	}
	return !bytes.Contains(data, []byte(f.EventID)) && !bytes.Contains(data, []byte(`"payload_bytes"`))
}
