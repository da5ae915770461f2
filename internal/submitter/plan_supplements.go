package submitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// maxIndexRaces bounds the compare-and-set retries on a supplement index before the message is redelivered.
// maxIndexAdvances bounds the supplements one message moves the index past: one found planned (its planner
// stopped before moving the index) and the one that covers the message.
const (
	maxIndexRaces    = 8
	maxIndexAdvances = 4
)

// consumeAdjustments hands every adjustment message of USAGE_AGG to onAdjustment, until ctx ends.
func (pl *planner) consumeAdjustments(ctx context.Context) error {
	return pl.agg.Consume(ctx, bus.StreamAgg, bus.ConsumeOptions{Durable: durableAdjustments,
		Filters: []string{subjects.Adjustments.All()}, AckWait: pl.ackWait, PullMaxMessages: consumerPull}, pl.settle(pl.onAdjustment))
}

// onAdjustment plans a supplement for each period an adjustment message names, unless an earlier supplement
// covers the message already.
func (pl *planner) onAdjustment(ctx context.Context, d *bus.Delivery) error {
	recs, err := decodeLines[events.PeriodRecord](d.Data)
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	done := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		key := ledger.SupplementIndexKey(r.Product, r.Contract, r.PeriodStart)
		if done[key] {
			continue
		}
		done[key] = true
		if err := pl.planSupplement(ctx, r, d); err != nil {
			return err
		}
	}
	return nil
}

// planSupplement plans the next supplement of r's period: every adjustment message of the period after the
// last one covered, up to the newest, once d is SupplementDelay old (so that adjustments arriving together
// make one file). The supplement's entries are written first, then the index moves past them; after a crash
// in between, the entries found are finished and the index catches up to them. It returns nil (d is acked)
// only once the index covers d: a supplement found planned may end before d, and then the next one is
// planned.
func (pl *planner) planSupplement(ctx context.Context, r *events.PeriodRecord, d *bus.Delivery) error {
	key := ledger.SupplementIndexKey(r.Product, r.Contract, r.PeriodStart)
	for races, advances := 0, 0; races < maxIndexRaces && advances < maxIndexAdvances; {
		idx, rev, err := pl.ledger.Index(ctx, key)
		if err != nil || d.Seq <= idx.Covered {
			return err
		}
		if wait := pl.supplementDelay - pl.now().Sub(d.Time); wait > 0 {
			return waitError{delay: wait}
		}
		to, err := pl.planSupplementFiles(ctx, r, idx, d)
		if err != nil {
			return err
		}
		next := idx // what else the index notes stays
		next.Next, next.Covered = idx.Next+1, to
		switch err = pl.ledger.PutIndex(ctx, key, next, rev); {
		case err == nil:
			advances++ // moved past supplement idx.Next, which may end before d: look again
		case errors.Is(err, bus.ErrExists), errors.Is(err, bus.ErrRevisionMismatch):
			races++
		default:
			return err
		}
	}
	return fmt.Errorf("submitter: supplement index %s: changed while planning, or did not reach seq %d", key, d.Seq)
}

// planSupplementFiles writes supplement idx.Next (adjustment messages after idx.Covered, up to the newest)
// and returns the stream sequence it covers up to: that of the supplement in the ledger, which another
// submitter may have planned first, never merely what this one read (the index moves exactly past what the
// entries cover, so supplements stay contiguous and disjoint). A supplement that cannot be planned is
// parked as failed (settlePlan) and covers its range all the same.
func (pl *planner) planSupplementFiles(ctx context.Context, r *events.PeriodRecord, idx ledger.SupplementIndex, d *bus.Delivery) (uint64, error) {
	first := ledger.FileID{Product: r.Product, Contract: r.Contract, PeriodStart: r.PeriodStart, Revision: idx.Next, Part: 1}
	e, done, err := pl.planned(ctx, first.Key())
	if err != nil || done {
		return entryTo(e), err
	}
	ctx, span := pl.startPlan(ctx, first, d.Header)
	defer span.End()
	alive := pl.alive(d)
	f := failedRevision{id: first, end: r.PeriodEnd, from: idx.Covered, since: d.Time}
	var p plan
	if e != nil {
		f.from, f.to = e.FromSeq, e.ToSeq
		p, err = pl.planOf(ctx, e, alive)
	} else {
		p, err = pl.newSupplement(ctx, first, r, idx, alive)
		f.to = p.toSeq
	}
	if err == nil {
		p, err = pl.planFiles(ctx, p, alive)
	}
	if err == nil {
		return p.toSeq, endPlan(span, nil)
	}
	parked, err := pl.settlePlan(ctx, f, err)
	if err != nil {
		return 0, endPlan(span, err)
	}
	return parked.ToSeq, endPlan(span, nil)
}

// newSupplement is the plan of supplement first.Revision as this submitter sees it: the adjustment messages
// of r's period after idx.Covered, up to the newest.
func (pl *planner) newSupplement(ctx context.Context, first ledger.FileID, r *events.PeriodRecord, idx ledger.SupplementIndex, alive func()) (plan, error) {
	filter := subjects.Adjustments.Period(r.Product, r.Contract, r.PeriodStart)
	to, err := pl.lastSeq(ctx, filter)
	if err != nil {
		return plan{}, err
	}
	return pl.supplementPlan(ctx, first, r.PeriodEnd, idx.Covered, to, alive)
}

// supplementPlan is the plan of supplement first.Revision over the adjustment messages of its period with
// sequence in (from, to].
func (pl *planner) supplementPlan(ctx context.Context, first ledger.FileID, end time.Time, from, to uint64, alive func()) (plan, error) {
	filter := subjects.Adjustments.Period(first.Product, first.Contract, first.PeriodStart)
	set, err := readSources(ctx, pl.agg, filter, from, to, alive)
	if err != nil {
		return plan{}, err
	}
	return plan{id: first, end: end, set: set, records: withoutNoops(set.records), closedAt: set.newest,
		fromSeq: from, toSeq: to}, nil
}

func entryTo(e *ledger.Entry) uint64 {
	if e == nil {
		return 0
	}
	return e.ToSeq
}

// lastSeq is the stream sequence of the newest message on filter.
func (pl *planner) lastSeq(ctx context.Context, filter string) (uint64, error) {
	m, err := pl.agg.LastMsg(ctx, bus.StreamAgg, filter)
	if err != nil {
		return 0, fmt.Errorf("submitter: last message on %s: %w", filter, err)
	}
	return m.Seq, nil
}
