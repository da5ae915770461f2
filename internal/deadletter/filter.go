package deadletter

import (
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

// match reports whether l passes the filter.
func (f Filter) match(l *Letter) bool {
	switch {
	case len(f.IDs) > 0 && !slices.Contains(f.IDs, l.ID),
		f.Stage != "" && l.Stage != f.Stage,
		f.Reason != "" && string(l.Reason) != f.Reason,
		f.Product != "" && l.Product != f.Product,
		f.Subscription != "" && l.Subscription != f.Subscription,
		!f.Since.IsZero() && l.At.Before(f.Since),
		!f.Until.IsZero() && !l.At.Before(f.Until),
		f.Open && !l.State.Open():
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

// read is one stream read of letters.
type read struct {
	stream, filter string
	since          time.Time
}
