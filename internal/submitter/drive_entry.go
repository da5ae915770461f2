package submitter

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

const (
	// writeTimeout bounds the ledger write of a finished step when the run is being cancelled.
	writeTimeout = 5 * time.Second
	// idleStep is the pause after a step that neither moved the entry nor said when to look again.
	idleStep = time.Second
)

// drive runs the entry at key step by step until it is terminal (done), must wait (next), or ctx ends. m is
// the schedule of its quiet steps kept by the driver (drive_quiet.go).
func (d *driver) drive(ctx context.Context, key string, m *memo) (next time.Time, done bool) {
	e, rev, err := d.ledger.Get(ctx, key)
	for ctx.Err() == nil {
		switch {
		case errors.Is(err, bus.ErrNotFound):
			return time.Time{}, true // removed by an operator
		case err != nil:
			d.log.WarnContext(ctx, "submitter: ledger read failed", "key", key, "err", err)
			return d.now().Add(time.Second), false
		}
		m.recall(e, rev)
		d.ins.track(key, e.State)
		now := d.now()
		if e.State.Terminal() {
			d.ended(ctx, e)
			d.setParked(key, e.State.Parked())
			return time.Time{}, true
		}
		if wait, ok := d.mustWait(e, now); ok {
			return wait, false
		}
		if rev, err = d.step(ctx, e, rev, m); ctx.Err() != nil {
			d.release(ctx, key)
		} else if errors.Is(err, bus.ErrRevisionMismatch) {
			e, rev, err = d.ledger.Get(ctx, key) // someone else wrote: start again from what is stored
		} else if err != nil {
			return d.now().Add(time.Second), false
		}
	}
	return time.Time{}, false
}

// mustWait says whether the entry is not due yet (NextAt) or is leased to another member, and until when.
func (d *driver) mustWait(e *ledger.Entry, now time.Time) (time.Time, bool) {
	if e.NextAt.After(now) {
		return e.NextAt, true
	}
	if e.Owner != "" && e.Owner != d.member && e.LeaseUntil.After(now) {
		return e.LeaseUntil, true
	}
	return time.Time{}, false
}

// step claims the entry if needed, runs one operation on it and writes the outcome (compare-and-set at rev),
// returning the new revision. A step cut short by the end of ctx writes nothing: the next run observes the
// Connect file and carries on from there. A quiet step (nothing new but the schedule) writes nothing
// either: its schedule is kept in m.
func (d *driver) step(ctx context.Context, e *ledger.Entry, rev uint64, m *memo) (uint64, error) {
	rev, err := d.claim(ctx, e, rev)
	if err != nil {
		return rev, err
	}
	op := operation(e)
	sctx, cancel := context.WithTimeout(ctx, d.stepTimeout)
	sctx, span := d.startStep(sctx, e, op)
	before, excluding, stored, lease := e.State, e.Excluding, durable(e), e.LeaseUntil
	err = d.advance(sctx, e)
	cancel()
	if err == nil && e.State == before && e.Excluding == excluding && e.NextAt.IsZero() {
		e.NextAt = d.now().Add(idleStep).UTC() // a step that changed nothing is not repeated at once
	}
	if err != nil && ctx.Err() != nil {
		endStep(span, e, err)
		return rev, ctx.Err()
	}
	d.settleStep(ctx, e, op, err)
	if quiet(stored, e, err) {
		e.LeaseUntil = lease // as stored: the claim renews it
		m.keep(e, rev)
		endStep(span, e, nil)
		return rev, nil
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer wcancel()
	newRev, werr := d.ledger.Update(wctx, e, rev)
	endStep(span, e, errors.Join(err, werr))
	if werr != nil {
		d.log.WarnContext(ctx, "submitter: ledger write failed (the next step re-reads)", "key", e.Key, "err", werr)
		return rev, werr
	}
	d.transitioned(ctx, e)
	d.stepped(before, e)
	return newRev, nil
}

// claim takes the entry's lease for this member unless it holds it for long enough already.
func (d *driver) claim(ctx context.Context, e *ledger.Entry, rev uint64) (uint64, error) {
	now := d.now()
	if e.Owner == d.member && e.LeaseUntil.Sub(now) > d.leaseTTL/2 {
		return rev, nil
	}
	e.Owner, e.LeaseUntil = d.member, now.Add(d.leaseTTL).UTC()
	return d.ledger.Update(ctx, e, rev)
}

// release gives up this member's lease on the entry at key (when stopping), so that another submitter can
// take it over at once. It re-reads the entry and changes nothing else; failing is harmless (the lease
// expires).
func (d *driver) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	e, rev, err := d.ledger.Get(ctx, key)
	if err != nil || e.Owner != d.member {
		return
	}
	e.Owner, e.LeaseUntil = "", time.Time{}
	_, _ = d.ledger.Update(ctx, e, rev)
}

// operation names what a step does to an entry (span names, metrics).
func operation(e *ledger.Entry) string {
	if e.Excluding != nil {
		return "dead-letter"
	}
	switch e.State {
	case ledger.StatePlanned:
		return "create"
	case ledger.StateCreated:
		return "upload"
	case ledger.StateRepairing:
		return "reupload"
	case ledger.StateUploaded:
		return "wait"
	case ledger.StateReady:
		return "submit"
	case ledger.StateInvalid:
		return "repair"
	case ledger.StateSubmitted:
		return "follow"
	}
	return string(e.State)
}
