package submitter

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"go.opentelemetry.io/otel/trace"
)

// maxLinks bounds the span links of a file: the distinct trace contexts of its source messages, in stream
// order, up to the SDK's default link limit (128). Records are packed many to a message and a commit's
// messages share one trace context, so 128 covers the commits of most periods.
const maxLinks = 128

// source is one record read from USAGE_AGG, with where it came from.
type source struct {
	rec     events.PeriodRecord
	id      string // rec.RecordID()
	subject string
	seq     uint64
}

// sourceSet is the de-duplicated records of one filter, sorted by record id, and the trace contexts of their
// messages.
type sourceSet struct {
	records []source
	links   []string
	lastSeq uint64    // of the last message read
	newest  time.Time // stream time of the newest message read
}

// readSources reads the records of every message on filter with fromSeq < seq ≤ toSeq (toSeq 0: up to the
// end), keeping the first of any repeated record id, sorted by record id. alive, if set, is called for every
// message read (the caller extends a consumer's AckWait from time to time).
func readSources(ctx context.Context, b recordReader, filter string, fromSeq, toSeq uint64, alive func()) (*sourceSet, error) {
	set := &sourceSet{}
	seen := map[string]bool{}
	links := map[string]bool{}
	err := b.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}, StartSeq: fromSeq + 1}, func(m bus.Msg) error {
		if toSeq > 0 && m.Seq > toSeq {
			return nil
		}
		if alive != nil {
			alive()
		}
		set.addLink(m.Header, links)
		set.lastSeq = max(set.lastSeq, m.Seq)
		if m.Time.After(set.newest) {
			set.newest = m.Time
		}
		return set.addLines(m, seen)
	})
	if err != nil {
		return nil, fmt.Errorf("submitter: read %s: %w", filter, err)
	}
	slices.SortFunc(set.records, func(a, b source) int { return cmp.Compare(a.id, b.id) })
	return set, nil
}

// addLines decodes the JSON lines of one message.
func (s *sourceSet) addLines(m bus.Msg, seen map[string]bool) error {
	for line := range bytes.SplitSeq(m.Data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r events.PeriodRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("record in %s seq %d: %w", m.Subject, m.Seq, err)
		}
		id := r.RecordID()
		if seen[id] {
			continue
		}
		seen[id] = true
		s.records = append(s.records, source{rec: r, id: id, subject: m.Subject, seq: m.Seq})
	}
	return nil
}

// addLink keeps the message's trace context, once, while there is room.
func (s *sourceSet) addLink(h bus.Header, seen map[string]bool) {
	if len(s.links) >= maxLinks {
		return
	}
	sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), h))
	if !sc.IsValid() {
		return
	}
	tp := traceparent(sc)
	if !seen[tp] {
		seen[tp] = true
		s.links = append(s.links, tp)
	}
}

// traceparent is the W3C traceparent of sc.
func traceparent(sc trace.SpanContext) string {
	return fmt.Sprintf("00-%s-%s-%02x", sc.TraceID(), sc.SpanID(), byte(sc.TraceFlags()))
}

// readRevision reads every record of e's revision from USAGE_AGG: the messages in the entry's sequence
// range, supplements without their no-op adjustments, sorted by record id (all parts; partRange cuts e's).
func readRevision(ctx context.Context, r recordReader, e *ledger.Entry, alive func()) (*sourceSet, []source, error) {
	output := subjects.Records
	if e.Revision > 0 {
		output = subjects.Adjustments
	}
	set, err := readSources(ctx, r, output.Period(e.Product, e.Contract, e.PeriodStart), e.FromSeq, e.ToSeq, alive)
	if err != nil {
		return nil, nil, err
	}
	records := set.records
	if e.Revision > 0 {
		records = withoutNoops(records)
	}
	return set, records, nil
}
