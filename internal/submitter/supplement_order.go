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

// The order of a period's files (docs/DESIGN.md, "Order"), one rule read by the planner and the driver.
//
// Supplements are deltas, and deltas commute: what Connect bills for a key is the sum of the records of its
// accepted files, whatever the order they were accepted in. So a file waits for those before it only until
// they are handed over, submitted to the provider or ended, never until the provider has decided:
//
//   - the planner plans supplement n of a period only once revision n−1 (the closed records for n = 1) is
//     handed over in every part, or, for n = 1, once the period is known to have no closed-records file
//     (every partition marked it with no record). Everything that arrives meanwhile waits in USAGE_AGG
//     beyond the supplement index and goes into that one supplement: a period gets at most one supplement
//     per cycle of the file before it (create, upload, process, submit), whatever the number of late batches.
//     From supplement 2 on, supplement n also waits supplementSpacing after supplement n−1 was planned.
//   - the driver creates supplement n in Connect only once every part of revision 0 is submitted, accepted,
//     closed or empty (or the period has no closed-records file), and every part of revision n−1 is handed
//     over (drive_gate.go). A revision 0 that is rejected or failed blocks its supplements (they are parked),
//     also right before a supplement is submitted; supplements already in Connect then are flagged
//     (drive_handover.go).
//
// When a file of a period is handed over, its driver nudges the planner, which looks at once for
// adjustments waiting beyond the index, and wakes the jobs of later revisions (their gate).

// handedOver says whether a file in state st has been handed to the provider or is done with: submitted, or
// terminal (accepted, closed, rejected, failed, empty).
func handedOver(st ledger.State) bool { return st == ledger.StateSubmitted || st.Terminal() }

// submittedWell says whether a closed-records file in state st lets its supplements be created: submitted and
// not refused (submitted, accepted, closed), or empty.
func submittedWell(st ledger.State) bool {
	return st == ledger.StateSubmitted || st == ledger.StateAccepted || st == ledger.StateClosed || st == ledger.StateEmpty
}

// periodFiles reads what the order of a period's files depends on: the ledger's entries and the period's
// marks in USAGE_AGG.
type periodFiles struct {
	ledger *ledger.Store
	agg    recordReader
}

// revisionStates returns part 1 of revision id.Revision of id's period (nil when it is not in the ledger)
// and the state of every part. A part missing (being planned) counts as planned.
func (pf periodFiles) revisionStates(ctx context.Context, id ledger.FileID) (*ledger.Entry, []ledger.State, error) {
	id.Part = 1
	first, _, err := pf.ledger.Get(ctx, id.Key())
	if errors.Is(err, bus.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	states := []ledger.State{first.State}
	for id.Part = 2; id.Part <= first.Parts; id.Part++ {
		p, _, err := pf.ledger.Get(ctx, id.Key())
		switch {
		case errors.Is(err, bus.ErrNotFound):
			states = append(states, ledger.StatePlanned)
		case err != nil:
			return nil, nil, err
		default:
			states = append(states, p.State)
		}
	}
	return first, states, nil
}

// noClosedRecords reports whether every partition has marked id's period and the marks count no record: a
// period that will never have a closed-records file.
func (pf periodFiles) noClosedRecords(ctx context.Context, id ledger.FileID) (bool, error) {
	idx, _, err := pf.ledger.Index(ctx, ledger.SupplementIndexKey(id.Product, id.Contract, id.PeriodStart))
	if err != nil || idx.NoClosedRecords { // retention notes it before it purges such a period's marks
		return idx.NoClosedRecords, err
	}
	filter := subjects.Marks.Period(id.Product, id.Contract, id.PeriodStart)
	last := map[int]events.PartitionMark{}
	partitions := 0
	err = pf.agg.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}}, func(m bus.Msg) error {
		marks, err := decodeLines[events.PartitionMark](m.Data)
		for _, x := range marks {
			if x.Product == id.Product && x.Contract == id.Contract && x.PeriodStart.Equal(id.PeriodStart) {
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

// handedOverBefore says whether the file before supplement id.Revision of id's period is handed over:
// revision id.Revision−1 in every part, or, for supplement 1 of a period that will have no closed-records
// file, nothing. It returns that revision's part 1 (nil when it is not in the ledger). An earlier supplement
// no longer in the ledger (an operator's replan removed it) holds nothing back.
func (pf periodFiles) handedOverBefore(ctx context.Context, id ledger.FileID) (bool, *ledger.Entry, error) {
	prev := id
	prev.Revision--
	first, states, err := pf.revisionStates(ctx, prev)
	switch {
	case err != nil:
		return false, nil, err
	case first == nil && prev.Revision == 0:
		none, err := pf.noClosedRecords(ctx, id)
		return none, nil, err
	}
	for _, st := range states {
		if !handedOver(st) {
			return false, first, nil
		}
	}
	return true, first, nil
}

// maxSpacingFactor caps supplementSpacing, in supplement delays.
const maxSpacingFactor = 16

// supplementSpacing is how long after supplement n−1 of a period was planned supplement n (n ≥ 2) may be:
// the supplement delay doubled for each supplement before it (2, 4, 8 … delays), at most maxSpacingFactor
// delays. A period whose late usage trickles in for a long time gets a few supplements early and then one per
// 16 delays, whatever the number of late batches; the last of its late usage waits at most that long.
func supplementSpacing(delay time.Duration, n int) time.Duration {
	s := delay
	for i := 1; i < n && s < maxSpacingFactor*delay; i++ {
		s *= 2
	}
	return min(s, maxSpacingFactor*delay)
}
