package submitter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// planOf is the plan that first, the part 1 entry of a revision, fixed when it was written: the same
// sequence range, limit and spec, its records read again from USAGE_AGG. Finishing a revision whose part 1
// is in the ledger (after a crash, or when another planner won the Create) goes through it, never through
// what the stream holds now.
func (s *Submitter) planOf(ctx context.Context, first *ledger.Entry, alive func()) (plan, error) {
	set, records, err := s.readPlanned(ctx, first, alive)
	if err != nil {
		return plan{}, fmt.Errorf("submitter: plan %s: %w", first.Key, err)
	}
	if n := partCount(len(records), first.Limit); n != first.Parts {
		return plan{}, permanent("source_changed", fmt.Errorf("%s: USAGE_AGG now yields %d records (%d parts), %d parts were planned",
			first.Key, len(records), n, first.Parts))
	}
	id := first.ID()
	id.Part = 1
	spec := first.Spec
	return plan{id: id, end: first.PeriodEnd, set: set, records: records, closedAt: first.ClosedAt,
		fromSeq: first.FromSeq, toSeq: first.ToSeq, limit: first.Limit, spec: &spec, adopted: true}, nil
}

// readPlanned reads every record of e's revision from USAGE_AGG: the messages in the entry's sequence range,
// supplements without their no-op adjustments, sorted by record id (all parts; partRange cuts e's).
func (s *Submitter) readPlanned(ctx context.Context, e *ledger.Entry, alive func()) (*sourceSet, []source, error) {
	output := subjects.Records
	if e.Revision > 0 {
		output = subjects.Adjustments
	}
	set, err := readSources(ctx, s.bus, output.Period(e.Product, e.Contract, e.PeriodStart), e.FromSeq, e.ToSeq, alive)
	if err != nil {
		return nil, nil, err
	}
	records := set.records
	if e.Revision > 0 {
		records = withoutNoops(records)
	}
	return set, records, nil
}
