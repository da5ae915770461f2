package submitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"go.opentelemetry.io/otel/metric"
)

// plan is what planFiles writes to the ledger: one report revision of a period.
type plan struct {
	id             ledger.FileID // Part ignored
	end            time.Time
	set            *sourceSet
	records        []source // the records reported (supplements: without no-op adjustments), sorted by id
	closedAt       time.Time
	fromSeq, toSeq uint64
	limit          int              // records per part; 0: Options.MaxRecordsPerFile
	spec           *ledger.FileSpec // nil: from the catalog
	adopted        bool             // the plan part 1 of the revision in the ledger fixed (planOf)
}

// planFiles writes one ledger entry per part of p and hands the new ones to the driver, and returns the plan
// the ledger holds. A revision without records gets one entry, empty at once.
//
// Part 1 fixes the plan of a revision: its sequence range, record limit and spec. When part 1 is in the
// ledger already and was not written from p (another submitter planned the same revision first, between
// our look at the ledger and our Create), p is dropped and the plan of that entry is finished instead, so
// every part of a revision, whoever writes it, comes from one plan, and what the caller does next (move
// the supplement index) follows what the ledger holds, not what this planner read.
func (pl *planner) planFiles(ctx context.Context, p plan, alive func()) (plan, error) {
	if p.limit == 0 {
		p.limit = pl.limit
	}
	if p.spec == nil {
		spec, err := specFor(pl.catalog, p.id.Product, p.records)
		if err != nil {
			return p, fmt.Errorf("submitter: plan %s: %w", p.id.Key(), err)
		}
		p.spec = &spec
	}
	parts := partCount(len(p.records), p.limit)
	for part := 1; part <= parts; part++ {
		e := pl.newEntry(p, part, parts)
		_, err := pl.ledger.Create(ctx, e)
		switch {
		case err == nil:
			lo, hi := partRange(part, p.limit, len(p.records))
			pl.cache.put(e.Key, p.records[lo:hi])
			pl.announce(ctx, e)
		case !errors.Is(err, bus.ErrExists):
			return p, fmt.Errorf("submitter: plan %s: %w", e.Key, err)
		case part == 1 && !p.adopted:
			return pl.adoptPlan(ctx, p, e.Key, alive)
		}
	}
	return p, nil
}

// newEntry is the ledger entry of one part of p.
func (pl *planner) newEntry(p plan, part, parts int) *ledger.Entry {
	id := p.id
	id.Part = part
	lo, hi := partRange(part, p.limit, len(p.records))
	now := pl.now().UTC()
	e := &ledger.Entry{Key: id.Key(), Product: id.Product, Contract: id.Contract, PeriodStart: id.PeriodStart.UTC(),
		PeriodEnd: p.end.UTC(), Revision: id.Revision, Part: part, Parts: parts, Limit: p.limit,
		FromSeq: p.fromSeq, ToSeq: p.toSeq, Records: hi - lo, Digest: digestIDs(p.records[lo:hi]), Spec: *p.spec,
		ExternalID: id.ExternalID(), ClosedAt: p.closedAt.UTC(), PlannedAt: now, Links: p.set.links,
		State: ledger.StatePlanned, History: []ledger.Transition{{State: ledger.StatePlanned, At: now}}}
	e.Name = fileName(p.spec.ProductName, p.spec.Location(), e.PeriodStart, e.PeriodEnd, id.Revision, part, parts)
	if e.Records == 0 {
		e.Reason = "no adjustment changes a reported value"
		_ = e.MoveTo(ledger.StateEmpty, now, e.Reason)
	}
	return e
}

// announce reports a new entry: metrics, log, and the driver when there is work.
func (pl *planner) announce(ctx context.Context, e *ledger.Entry) {
	e.TakeMoves() // counted here, the entry being new
	pl.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, ledger.StatePlanned)...))
	pl.ins.track(e.Key, e.State)
	pl.log.InfoContext(ctx, "usage file planned", "key", e.Key, "external_id", e.ExternalID, "records", e.Records,
		"part", e.Part, "parts", e.Parts, "state", e.State)
	switch {
	case !e.State.Terminal():
		pl.drive.revive(e.Key, time.Time{}) // a new entry, though its key may have been parked and deleted
	default:
		pl.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, e.State)...))
		logTransition(ctx, pl.log, e, e.History[len(e.History)-1])
	}
}
