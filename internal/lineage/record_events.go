package lineage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// MaxEventsListed bounds the events a record's answer lists one by one (all are counted and digested).
const MaxEventsListed = 1000

// recordEvents finds the events that make rec in its partition (package doc): a closed record's on-time
// events from its period's start minus the future skew up to its last contributing packet, an adjustment's
// late events of its packet; without the copies dead-lettered or ignored as duplicates. Their count and
// digest are compared with the record's.
func (s *Service) recordEvents(ctx context.Context, fc aggregator.FoldConfig, rec *Record) (*RecordEvents, error) {
	r := &rec.Record
	k := recordKey{product: r.Product, contract: r.Contract, subscription: r.Subscription, item: r.Item, tier: r.Tier,
		start: r.PeriodStart}
	prod, ok := fc.Catalog.Product(r.Product)
	if !ok {
		return &RecordEvents{Note: "the product is not in the catalog of the committed fold configuration"}, nil
	}
	keep := func(e *events.Event) bool {
		c, _ := prod.ContractFor(e)
		return e.Subject == k.subscription && e.Data.Product == k.product && c == k.contract && e.Data.Item == k.item &&
			e.Data.Tier == k.tier && prod.PeriodOf(e.Time).Start.Equal(k.start)
	}
	from, fromSeq := r.PeriodStart.Add(-events.FutureSkew-ClockMargin), uint64(0)
	if r.Kind == events.RecordAdjustment {
		from, fromSeq = time.Time{}, r.SourceSeq
	}
	found, sp, err := s.collectEvents(ctx, r.Partition, from, fromSeq, r.SourceSeq, events.PacketSubjectBytes(k.subscription),
		keep, fc.DedupHorizon)
	if err != nil {
		return nil, err
	}
	if err := s.noteRetention(ctx, &sp); err != nil {
		return nil, err
	}
	return found.compare(r, sp), nil
}

// collected are the counted events of a range.
type collected struct {
	refs   []EventRef
	digest events.Digest
	count  int
}

// collectEvents reads partition p from fromSeq (else from time from) through seq to, keeping the lines with
// needle that keep accepts and the fold counted: not dead-lettered, not a copy of a key counted earlier in the
// range.
func (s *Service) collectEvents(ctx context.Context, p int, from time.Time, fromSeq, to uint64, needle []byte,
	keep func(*events.Event) bool, horizon time.Duration) (*collected, Span, error) {
	var found []Copy
	sp, err := s.readSpan(ctx, bus.StreamEvents, subjects.Events(p), fromSeq, from,
		func(m bus.Msg) bool { return m.Seq > to }, func(m bus.Msg) error {
			if !isPacket(m) {
				return nil
			}
			for _, l := range linesWith(m.Data, needle, keep) {
				found = append(found, Copy{Partition: p, Seq: m.Seq, Arrival: m.Time, Line: l.n, Event: l.event})
			}
			return nil
		})
	sp.Partition, sp.ToTime = p, sp.LastAt
	if err != nil {
		return nil, sp, err
	}
	out, err := s.countCopies(ctx, p, found, horizon)
	return out, sp, err
}

// countCopies keeps the copies the fold counted: per key, the first not dead-lettered, and a later one only
// after the dedup horizon.
func (s *Service) countCopies(ctx context.Context, p int, found []Copy, horizon time.Duration) (*collected, error) {
	out := &collected{}
	if len(found) == 0 {
		return out, nil
	}
	dead, err := s.deadLetterSeqs(ctx, p, found)
	if err != nil {
		return nil, err
	}
	last := map[events.Key]time.Time{}
	for _, c := range found {
		k := c.Event.Key()
		if dead[deadKey{c.Seq, k}] {
			continue
		}
		if at, seen := last[k]; seen && aggregate.Remembers(horizon, at, c.Arrival) {
			continue
		}
		last[k] = c.Arrival
		out.digest.Add(k)
		out.count++
		if len(out.refs) < MaxEventsListed {
			out.refs = append(out.refs, EventRef{Seq: c.Seq, Arrival: c.Arrival, Line: c.Line, Source: k.Source, ID: k.ID,
				Time: c.Event.Time, Quantity: c.Event.Data.Quantity})
		}
	}
	return out, nil
}

type deadKey struct {
	seq uint64
	key events.Key
}

// deadLetterSeqs returns the (sequence, key) of every dead letter of partition p among found's range.
func (s *Service) deadLetterSeqs(ctx context.Context, p int, found []Copy) (map[deadKey]bool, error) {
	out := map[deadKey]bool{}
	subject := subjects.AggDeadLetters(p)
	last, err := s.bus.LastMsg(ctx, bus.StreamAgg, subject)
	if errors.Is(err, bus.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	first, end := found[0], found[len(found)-1].Seq
	if maxDeadLetterSeq(last.Data) < first.Seq {
		return out, nil
	}
	past := false
	_, err = s.readSpan(ctx, bus.StreamAgg, subject, 0, first.Arrival.Add(-time.Second), func(bus.Msg) bool { return past },
		func(m bus.Msg) error {
			for _, dl := range decodeDeadLetters(m.Data) {
				past = past || dl.Seq > end
				if e, ok := dl.event(); ok {
					out[deadKey{dl.Seq, e.Key()}] = true
				}
			}
			return nil
		})
	return out, err
}

// compare checks the collected events against the record.
func (c *collected) compare(r *events.PeriodRecord, sp Span) *RecordEvents {
	re := &RecordEvents{Count: c.count, Digest: c.digest.String(), Events: c.refs, Searched: []Span{sp}}
	re.Matches = int64(c.count) == r.Events && re.Digest == r.Digest
	switch {
	case re.Matches:
	case !sp.Complete:
		re.Note = "the stream no longer holds all of the record's events (MaxAge): only the record's count and digest remain"
	default:
		re.Note = fmt.Sprintf("found %d events (digest %s), the record counts %d (digest %s): some were copies of events "+
			"counted before the range read", c.count, re.Digest, r.Events, r.Digest)
	}
	if c.count > len(c.refs) {
		re.Note += fmt.Sprintf(" (the first %d listed)", len(c.refs))
	}
	return re
}
