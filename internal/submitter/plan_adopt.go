package submitter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// finishPlan writes the parts missing from the plan of first, a part 1 entry in the ledger.
func (pl *planner) finishPlan(ctx context.Context, first *ledger.Entry, alive func()) error {
	p, err := pl.planOf(ctx, first, alive)
	if err != nil {
		return err
	}
	_, err = pl.planFiles(ctx, p, alive)
	return err
}

// adoptPlan finishes the plan of the part 1 entry at key, written by another planner. Its records are read
// again unless p read the same range with the same limit (the records of a range never change).
func (pl *planner) adoptPlan(ctx context.Context, p plan, key string, alive func()) (plan, error) {
	first, _, err := pl.ledger.Get(ctx, key)
	if err != nil {
		return p, fmt.Errorf("submitter: plan %s: %w", key, err)
	}
	if first.FromSeq == p.fromSeq && first.ToSeq == p.toSeq && first.Limit == p.limit {
		spec := first.Spec
		p.spec, p.closedAt, p.adopted = &spec, first.ClosedAt, true
	} else if p, err = pl.planOf(ctx, first, alive); err != nil {
		return p, err
	}
	return pl.planFiles(ctx, p, alive)
}

// planOf is the plan that first, the part 1 entry of a revision, fixed when it was written: the same
// sequence range, limit and spec, its records read again from USAGE_AGG. Finishing a revision whose part 1
// is in the ledger (after a crash, or when another planner won the Create) goes through it, never through
// what the stream holds now.
func (pl *planner) planOf(ctx context.Context, first *ledger.Entry, alive func()) (plan, error) {
	set, records, err := readRevision(ctx, pl.agg, first, alive)
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
