package submitter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// The gate of a supplement (supplement_order.go has the rule): supplement n of a period stays planned
// (nothing in Connect) until every part of revision 0 is submitted, accepted, closed or empty (or the period
// has no closed-records file: its marks count no record, or its supplement index notes so), and, for n > 1,
// until every part of supplement n−1 is reported (submitted or ended). A base that is rejected, failed or
// abandoned blocks its supplements: each is parked as failed with a reason naming the base (base_rejected,
// base_failed, base_abandoned); the planner plans them again once the base is billed (an operator
// resubmitted it: plan_replan.go), or an operator resolves them.

// gateVerdict is what the gate says of a planned supplement.
type gateVerdict int

const (
	gateOpen    gateVerdict = iota // may be created
	gateWait                       // look again later
	gateBlocked                    // its base was rejected or failed
)

// gate decides whether supplement e may be created now. A blocked verdict comes with the permanent error
// that parks it; any other error is a failed read (retried).
func (d *driver) gate(ctx context.Context, e *ledger.Entry) (gateVerdict, error) {
	v, err := d.baseGate(ctx, e)
	if err != nil || v != gateOpen || e.Revision == 1 {
		return v, err
	}
	prev := e.ID()
	prev.Revision--
	first, states, err := d.period().revisionStates(ctx, prev)
	if err != nil || first == nil {
		return gateOpen, err // an earlier supplement no longer in the ledger: nothing to wait for
	}
	for _, st := range states {
		if !handedOver(st) {
			return gateWait, nil
		}
	}
	return gateOpen, nil
}

// baseGate judges revision 0 of e's period.
func (d *driver) baseGate(ctx context.Context, e *ledger.Entry) (gateVerdict, error) {
	base := e.ID()
	base.Revision = 0
	first, states, err := d.period().revisionStates(ctx, base)
	if err != nil {
		return gateWait, err
	}
	if first == nil {
		if none, err := d.period().noClosedRecords(ctx, base); err != nil || !none {
			return gateWait, err
		}
		return gateOpen, nil
	}
	if err := blockedBy(base, states); err != nil {
		return gateBlocked, err
	}
	for _, st := range states {
		if !submittedWell(st) {
			return gateWait, nil
		}
	}
	return gateOpen, nil
}

// blockedBy is the permanent error that parks a supplement whose base (revision 0, parts in states) has a
// part rejected, failed or abandoned; nil when none is.
func blockedBy(base ledger.FileID, states []ledger.State) error {
	for i, st := range states {
		if st.Parked() || st == ledger.StateAbandoned {
			base.Part = i + 1
			return permanent("base_"+string(st), fmt.Errorf("the period's file %s is %s; "+
				"its supplements wait for an operator too", base.Key(), st))
		}
	}
	return nil
}

// baseStillWell checks, right before supplement e's file is submitted, that its base has not been parked
// since the gate opened: a permanent error (parking e, its file left ready in Connect) when it has.
func (d *driver) baseStillWell(ctx context.Context, e *ledger.Entry) error {
	if e.Revision == 0 {
		return nil
	}
	base := e.ID()
	base.Revision = 0
	_, states, err := d.period().revisionStates(ctx, base)
	if err != nil {
		return err
	}
	return blockedBy(base, states)
}

func (d *driver) period() periodFiles { return periodFiles{ledger: d.ledger, agg: d.records} }
