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
// maxIndexAdvances bounds the supplements one look moves the index past: one found planned (its planner
// stopped before moving the index) and the one that covers the message.
const (
	maxIndexRaces    = 8
	maxIndexAdvances = 4
)

// supplementPeriod is the period whose supplements are planned.
type supplementPeriod struct {
	product, contract string
	start, end        time.Time
}

func periodOfRecord(r *events.PeriodRecord) supplementPeriod {
	return supplementPeriod{product: r.Product, contract: r.Contract, start: r.PeriodStart, end: r.PeriodEnd}
}

func periodOfEntry(e *ledger.Entry) supplementPeriod {
	return supplementPeriod{product: e.Product, contract: e.Contract, start: e.PeriodStart, end: e.PeriodEnd}
}

func (p supplementPeriod) indexKey() string {
	return ledger.SupplementIndexKey(p.product, p.contract, p.start)
}

func (p supplementPeriod) filter() string {
	return subjects.Adjustments.Period(p.product, p.contract, p.start)
}

// revision is the part 1 of revision rev of the period.
func (p supplementPeriod) revision(rev int) ledger.FileID {
	return ledger.FileID{Product: p.product, Contract: p.contract, PeriodStart: p.start, Revision: rev, Part: 1}
}

// trigger is the adjustment message that asks for a supplement: its trace context (the plan span's link),
// its stream time (the planning grace runs from it) and the keep-alive of its delivery.
type trigger struct {
	header bus.Header
	time   time.Time
	alive  func()
}

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
		p := periodOfRecord(&recs[i])
		if done[p.indexKey()] {
			continue
		}
		done[p.indexKey()] = true
		if err := pl.planSupplement(ctx, p, d); err != nil {
			return err
		}
	}
	return nil
}

// planSupplement plans the next supplement of period p: every adjustment message of the period after the
// last one covered, up to the newest, once d is SupplementDelay old (so that adjustments arriving together
// make one file) and the rule of supplement_order.go lets it (the file before it handed over, the spacing
// after the supplement before it passed). The supplement's entries are written first, then the index moves
// past them; after a crash in between, the entries found are finished and the index catches up to them. It
// returns nil (d is acked) once the index covers d, or, while the supplement is held back, once a newer
// adjustment message of the period stands for d: the newest message of a period is never acked before a
// supplement covers it, so what waits is never forgotten, and a held period keeps one message
// unacknowledged, not all of them.
func (pl *planner) planSupplement(ctx context.Context, p supplementPeriod, d *bus.Delivery) error {
	trig := trigger{header: d.Header, time: d.Time, alive: pl.alive(d)}
	for races, advances := 0, 0; races < maxIndexRaces && advances < maxIndexAdvances; {
		idx, rev, err := pl.ledger.Index(ctx, p.indexKey())
		if err != nil || d.Seq <= idx.Covered {
			return err
		}
		if wait := pl.supplementDelay - pl.now().Sub(d.Time); wait > 0 {
			return waitError{delay: wait}
		}
		look, err := pl.nextSupplement(ctx, p, idx, rev, trig)
		switch {
		case err != nil:
			return err
		case look.held:
			return pl.holding(ctx, p, d, look.until)
		case look.moved:
			advances++ // moved past supplement idx.Next, which may end before d: look again
		default:
			races++
		}
	}
	return fmt.Errorf("submitter: supplement index %s: changed while planning, or did not reach seq %d", p.indexKey(), d.Seq)
}

// planWaiting plans the next supplement of period p if adjustment messages wait beyond its index and the
// rule lets it: what a driver asks for when a file of p is handed over (nudge), so that what waited goes into
// one supplement at once rather than at the next redelivery of the held message. A supplement held by the
// spacing is looked at again when it has passed.
func (pl *planner) planWaiting(ctx context.Context, p supplementPeriod) error {
	for races, advances := 0, 0; races < maxIndexRaces && advances < maxIndexAdvances; {
		idx, rev, err := pl.ledger.Index(ctx, p.indexKey())
		if err != nil {
			return err
		}
		last, err := pl.agg.LastMsg(ctx, bus.StreamAgg, p.filter())
		if errors.Is(err, bus.ErrNotFound) || err == nil && last.Seq <= idx.Covered {
			return nil
		}
		if err != nil {
			return fmt.Errorf("submitter: last message on %s: %w", p.filter(), err)
		}
		look, err := pl.nextSupplement(ctx, p, idx, rev, trigger{header: last.Header, time: last.Time, alive: noAlive})
		switch {
		case err != nil || look.held:
			return err
		case look.moved:
			advances++
		default:
			races++
		}
	}
	return fmt.Errorf("submitter: supplement index %s: changed while planning", p.indexKey())
}

// indexLook is what one look at a period's supplement index did.
type indexLook struct {
	moved bool      // the index moved past a supplement
	held  bool      // the next supplement is held back
	until time.Time // held by the spacing: when it may be planned (zero: until the file before it is handed over)
}

// nextSupplement plans supplement idx.Next of p and moves the index (read at rev) past it, unless the rule
// holds it back (a supplement already in the ledger is finished whatever the rule says). A look that did
// neither found the index changed meanwhile (another planner): it is to be read again.
func (pl *planner) nextSupplement(ctx context.Context, p supplementPeriod, idx ledger.SupplementIndex, rev uint64, trig trigger) (indexLook, error) {
	first := p.revision(idx.Next)
	switch _, _, err := pl.ledger.Get(ctx, first.Key()); {
	case errors.Is(err, bus.ErrNotFound):
		if look, err := pl.holdOf(ctx, p, first); err != nil || look.held {
			return look, err
		}
	case err != nil:
		return indexLook{}, err
	}
	to, err := pl.planSupplementFiles(ctx, p, idx, trig)
	if err != nil {
		return indexLook{}, err
	}
	next := idx // what else the index notes stays
	next.Next, next.Covered = idx.Next+1, to
	switch err = pl.ledger.PutIndex(ctx, p.indexKey(), next, rev); {
	case err == nil:
		return indexLook{moved: true}, nil
	case errors.Is(err, bus.ErrExists), errors.Is(err, bus.ErrRevisionMismatch):
		return indexLook{}, nil
	}
	return indexLook{}, err
}

// holdOf says whether supplement first, not in the ledger yet, is held back (supplement_order.go): while the
// file before it is not handed over, and then, from supplement 2 on, until the spacing after the planning of
// the supplement before it has passed; the planner then looks at p again by itself (nudgeAt).
func (pl *planner) holdOf(ctx context.Context, p supplementPeriod, first ledger.FileID) (indexLook, error) {
	ok, prev, err := pl.period().handedOverBefore(ctx, first)
	switch {
	case err != nil:
		return indexLook{}, err
	case !ok:
		return indexLook{held: true}, nil
	case first.Revision < 2 || prev == nil:
		return indexLook{}, nil
	}
	until := prev.PlannedAt.Add(supplementSpacing(pl.supplementDelay, first.Revision))
	if !pl.now().Before(until) {
		return indexLook{}, nil
	}
	pl.nudgeAt(p, until)
	return indexLook{held: true, until: until}, nil
}

// holding settles d while p's next supplement is held back: nil (acked) when a newer adjustment message of
// p is in the stream (it stands for d: it is held, or planned, in its turn), else a holdError (redelivered
// when the spacing has passed, or by backoff while the file before is not handed over, in case no nudge
// comes; at most maxHoldDelay later).
func (pl *planner) holding(ctx context.Context, p supplementPeriod, d *bus.Delivery, until time.Time) error {
	newest, err := pl.lastSeq(ctx, p.filter())
	if err != nil {
		return err
	}
	if newest > d.Seq {
		return nil
	}
	delay := nakDelay(d.NumDelivered)
	if !until.IsZero() {
		delay = max(until.Sub(pl.now()), minHoldDelay)
	}
	return holdError{delay: min(delay, maxHoldDelay)}
}

// planSupplementFiles writes supplement idx.Next (adjustment messages after idx.Covered, up to the newest)
// and returns the stream sequence it covers up to: that of the supplement in the ledger, which another
// submitter may have planned first, never merely what this one read (the index moves exactly past what the
// entries cover, so supplements stay contiguous and disjoint). A supplement that cannot be planned is
// parked as failed (settlePlan) and covers its range all the same.
func (pl *planner) planSupplementFiles(ctx context.Context, p supplementPeriod, idx ledger.SupplementIndex, trig trigger) (uint64, error) {
	first := p.revision(idx.Next)
	e, done, err := pl.planned(ctx, first.Key())
	if err != nil || done {
		return entryTo(e), err
	}
	ctx, span := pl.startPlan(ctx, first, trig.header)
	defer span.End()
	f := failedRevision{id: first, end: p.end, from: idx.Covered, since: trig.time}
	var pln plan
	if e != nil {
		f.from, f.to = e.FromSeq, e.ToSeq
		pln, err = pl.planOf(ctx, e, trig.alive)
	} else {
		pln, err = pl.newSupplement(ctx, first, p.end, idx, trig.alive)
		f.to = pln.toSeq
	}
	if err == nil {
		pln, err = pl.planFiles(ctx, pln, trig.alive)
	}
	if err == nil {
		return pln.toSeq, endPlan(span, nil)
	}
	parked, err := pl.settlePlan(ctx, f, err)
	if err != nil {
		return 0, endPlan(span, err)
	}
	return parked.ToSeq, endPlan(span, nil)
}

// newSupplement is the plan of supplement first.Revision as this submitter sees it: the adjustment messages
// of its period after idx.Covered, up to the newest.
func (pl *planner) newSupplement(ctx context.Context, first ledger.FileID, end time.Time, idx ledger.SupplementIndex, alive func()) (plan, error) {
	filter := subjects.Adjustments.Period(first.Product, first.Contract, first.PeriodStart)
	to, err := pl.lastSeq(ctx, filter)
	if err != nil {
		return plan{}, err
	}
	return pl.supplementPlan(ctx, first, end, idx.Covered, to, alive)
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

func (pl *planner) period() periodFiles { return periodFiles{ledger: pl.ledger, agg: pl.agg} }
