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
)

// ExplainEvent says what happened to the event with key (q.Source, q.ID): where its copies are stored, each
// one's fate, and for the counted one its period, record, file and Connect record (package doc).
func (s *Service) ExplainEvent(ctx context.Context, q EventQuery) (*EventAnswer, error) {
	if q.Source == "" || q.ID == "" {
		return nil, fmt.Errorf("%w: an event is named by its source and id", ErrBadQuery)
	}
	fc, err := s.partitions(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.bus.StreamState(ctx, bus.StreamEvents)
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	a := &EventAnswer{Query: q}
	w := eventWindow(q.Time, fc.Catalog, st.LastTime)
	k := events.Key{Source: q.Source, ID: q.ID}
	idx, err := s.replayedCopy(ctx, k)
	if err != nil {
		return nil, err
	}
	for _, p := range partitionsOf(q.Subject, fc.Partitions) {
		copies, spans, err := s.findCopies(ctx, p, k, w, q.Early)
		if err != nil {
			return nil, err
		}
		if err := s.noteRetention(ctx, &spans[0]); err != nil {
			return nil, err
		}
		a.Searched = append(a.Searched, spans...)
		if copies, err = s.withReplayCopy(ctx, a, p, k, copies, idx); err != nil {
			return nil, err
		}
		if err := s.explainCopies(ctx, a, fc, p, copies); err != nil {
			return nil, err
		}
	}
	if err := s.explainReplays(ctx, a, fc.Catalog, k); err != nil {
		return nil, err
	}
	a.Found = len(a.Copies) > 0
	if a.Found && !q.Early && !q.Time.IsZero() {
		a.Notes = append(a.Notes, fmt.Sprintf("copies stored before %s (the event's time − %v) were not looked for: there can be "+
			"one only if the producer's clock ran ahead of ingest's; it would then be the one counted, and the first copy listed "+
			"its duplicate (ask with early=true / --early)", stamp(q.Time.Add(-ClockMargin)), ClockMargin))
	}
	a.Summary = summarizeEvent(a)
	return a, nil
}

// partitionsOf is the partition of subject, or every partition when no subject is given.
func partitionsOf(subject string, partitions int) []int {
	if subject != "" {
		return []int{events.Partition(subject, partitions)}
	}
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	return ps
}

// explainCopies decides the fates of one partition's copies and follows the counted one.
func (s *Service) explainCopies(ctx context.Context, a *EventAnswer, fc aggregator.FoldConfig, p int, copies []Copy) error {
	if len(copies) == 0 {
		return nil
	}
	counted, spans, err := s.assignFates(ctx, p, copies, fc.DedupHorizon)
	if err != nil {
		return err
	}
	a.Searched = append(a.Searched, spans...)
	a.Copies = append(a.Copies, copies...)
	if counted == nil || a.Counting != nil {
		return nil
	}
	c, spans, err := s.countingOf(ctx, fc, counted)
	a.Searched = append(a.Searched, spans...)
	a.Counting = c
	return err
}

// countingOf follows the counted copy: its period, the record holding it (or the open period), its file.
func (s *Service) countingOf(ctx context.Context, fc aggregator.FoldConfig, cp *Copy) (*Counting, []Span, error) {
	e := &cp.Event
	prod, ok := fc.Catalog.Product(e.Data.Product)
	if !ok {
		return &Counting{Product: e.Data.Product, Note: "the product is not in the catalog of the committed fold configuration"}, nil, nil
	}
	contract, _ := prod.ContractFor(e)
	period := prod.PeriodOf(e.Time)
	c := &Counting{Product: prod.ID, Contract: contract, Item: e.Data.Item, Tier: e.Data.Tier, PeriodStart: period.Start,
		PeriodEnd: period.End, ClosesAt: prod.CloseAt(period), Late: !cp.Arrival.Before(prod.CloseAt(period))}
	k := recordKey{product: prod.ID, contract: contract, subscription: e.Subject, item: e.Data.Item, tier: e.Data.Tier,
		start: period.Start}
	var sp Span
	var err error
	if c.Late {
		c.Record, sp, err = s.adjustmentOf(ctx, k, cp.Partition, cp.Seq, cp.Arrival)
	} else {
		c.Record, sp, err = s.closedRecord(ctx, k, cp.Partition, c.ClosesAt)
	}
	if err != nil {
		return c, []Span{sp}, err
	}
	if err := s.placeCounting(ctx, c, k, cp); err != nil {
		return c, []Span{sp}, err
	}
	return c, []Span{sp}, nil
}

// placeCounting sets the state of a counting whose record was looked for, and follows the record to its file.
func (s *Service) placeCounting(ctx context.Context, c *Counting, k recordKey, cp *Copy) error {
	switch {
	case c.Record != nil && c.Late:
		c.State = CountAdjusted
	case c.Record != nil:
		c.State = CountClosed
	case c.Late:
		c.State = CountUnchanged
		c.Note = "folded after the close, but no adjustment was emitted: the value did not change (max, min, last, unique_count)"
		return nil
	default:
		return s.openOrMissing(ctx, c, k, cp.Partition)
	}
	f, note, err := s.fileOf(ctx, c.Record)
	c.File, c.Note = f, note
	return err
}

// openOrMissing explains a counted on-time copy without a closed record: its period is open as far as the
// committed output goes (the owner is asked for the value so far), or its record is missing.
func (s *Service) openOrMissing(ctx context.Context, c *Counting, k recordKey, p int) error {
	clock, err := s.committedClock(ctx, p)
	if err != nil {
		return err
	}
	if !clock.Before(c.ClosesAt) {
		c.State = CountNotCommitted
		c.Note = fmt.Sprintf("partition %d has committed past the close (%s) but holds no closed record of this key",
			p, c.ClosesAt.Format(time.RFC3339))
		return nil
	}
	c.State = CountOpen
	c.Note = "in an open period, closes at " + c.ClosesAt.UTC().Format(time.RFC3339)
	a, err := aggregator.QueryUsage(ctx, s.bus, p, k.subscription)
	switch {
	case errors.Is(err, aggregator.ErrNoOwner):
		c.Note += fmt.Sprintf("; partition %d has no owner right now to tell the value so far", p)
	case err != nil:
		c.Note += "; the value so far could not be read: " + err.Error()
	default:
		c.Usage = keyUsage(a.Keys, k)
	}
	return nil
}

// committedClock is the stream time of the last message partition p has committed (zero: none).
func (s *Service) committedClock(ctx context.Context, p int) (time.Time, error) {
	cm, ok, err := aggregator.ReadCommitted(ctx, s.bus, p)
	if err != nil || !ok || cm.Base == 0 {
		return time.Time{}, err
	}
	m, err := s.bus.GetMsg(ctx, bus.StreamEvents, cm.Base)
	if errors.Is(err, bus.ErrNotFound) {
		return cm.At, nil // aged out: the commit's own time bounds it
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("lineage: %w", err)
	}
	return m.Time, nil
}

func keyUsage(keys []aggregate.KeyUsage, k recordKey) *aggregate.KeyUsage {
	for i := range keys {
		u := &keys[i]
		if u.Product == k.product && u.Contract == k.contract && u.Item == k.item && u.Tier == k.tier && u.PeriodStart.Equal(k.start) {
			return u
		}
	}
	return nil
}
