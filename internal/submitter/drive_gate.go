package submitter

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Supplements are ordered after the file they correct: supplement n of a period stays planned (nothing in
// Connect) until revision 0 of the period is accepted, closed or empty in every part (or the period has no
// closed-records file: its marks count no record, or its supplement index notes so), and, for n > 1, until
// every part of supplement n−1 has ended. A base that is rejected, failed or abandoned blocks its supplements:
// each is parked as failed with a reason naming the base (base_rejected, base_failed, base_abandoned); the
// planner plans them again once the base is accepted (an operator resubmitted it), or an operator resolves
// them.

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
	states, found, err := d.revisionStates(ctx, e, e.Revision-1)
	if err != nil || !found {
		return gateOpen, err // an earlier supplement no longer in the ledger: nothing to wait for
	}
	for _, st := range states {
		if !st.Terminal() {
			return gateWait, nil
		}
	}
	return gateOpen, nil
}

// baseGate judges revision 0 of e's period.
func (d *driver) baseGate(ctx context.Context, e *ledger.Entry) (gateVerdict, error) {
	states, found, err := d.revisionStates(ctx, e, 0)
	if err != nil {
		return gateWait, err
	}
	if !found {
		if none, err := d.noClosedRecordsNoted(ctx, e); err != nil || none {
			return gateOpen, err
		}
		if none, err := d.noClosedRecords(ctx, e); err != nil || !none {
			return gateWait, err
		}
		return gateOpen, nil
	}
	base := e.ID()
	base.Revision = 0
	for i, st := range states {
		if st.Parked() || st == ledger.StateAbandoned {
			base.Part = i + 1
			return gateBlocked, permanent("base_"+string(st), fmt.Errorf("the period's file %s is %s; "+
				"its supplements wait for an operator too", base.Key(), st))
		}
	}
	for _, st := range states {
		if st != ledger.StateAccepted && st != ledger.StateClosed && st != ledger.StateEmpty {
			return gateWait, nil
		}
	}
	return gateOpen, nil
}

// revisionStates returns the state of every part of revision rev of e's period; found is false when its
// part 1 is not in the ledger. A part missing (being planned) counts as planned.
func (d *driver) revisionStates(ctx context.Context, e *ledger.Entry, rev int) ([]ledger.State, bool, error) {
	id := e.ID()
	id.Revision, id.Part = rev, 1
	first, _, err := d.ledger.Get(ctx, id.Key())
	if errors.Is(err, bus.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	states := []ledger.State{first.State}
	for id.Part = 2; id.Part <= first.Parts; id.Part++ {
		p, _, err := d.ledger.Get(ctx, id.Key())
		switch {
		case errors.Is(err, bus.ErrNotFound):
			states = append(states, ledger.StatePlanned)
		case err != nil:
			return nil, false, err
		default:
			states = append(states, p.State)
		}
	}
	return states, true, nil
}

// noClosedRecordsNoted reports whether e's period's supplement index notes that its marks count no record
// (retention writes it before purging those marks).
func (d *driver) noClosedRecordsNoted(ctx context.Context, e *ledger.Entry) (bool, error) {
	idx, _, err := d.ledger.Index(ctx, ledger.SupplementIndexKey(e.Product, e.Contract, e.PeriodStart))
	return idx.NoClosedRecords, err
}

// noClosedRecords reports whether every partition has marked e's period and the marks count no record: a
// period that will never have a closed-records file.
func (d *driver) noClosedRecords(ctx context.Context, e *ledger.Entry) (bool, error) {
	filter := subjects.Marks.Period(e.Product, e.Contract, e.PeriodStart)
	last := map[int]events.PartitionMark{}
	partitions := 0
	err := d.records.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}}, func(m bus.Msg) error {
		marks, err := decodeLines[events.PartitionMark](m.Data)
		for _, x := range marks {
			if x.Product == e.Product && x.Contract == e.Contract && x.PeriodStart.Equal(e.PeriodStart) {
				last[x.Partition], partitions = x, x.Partitions
			}
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("submitter: read %s: %w", filter, err)
	}
	if partitions == 0 || len(last) < partitions {
		return false, nil
	}
	for p := range partitions {
		if last[p].Records > 0 {
			return false, nil
		}
	}
	return true, nil
}
