package submitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Reasons of revisions whose planning is parked as failed.
const (
	reasonRecordsMissing = "records_missing"      // fewer closed records than the marks count, past PlanGrace
	reasonRecordsExceed  = "records_exceed_marks" // more closed records than the marks count
	reasonUnknownProduct = "unknown_product"      // the catalog lacks the product, past PlanGrace
)

// failedRevision is what is known of a revision whose planning failed: enough for its ledger entries.
type failedRevision struct {
	id       ledger.FileID // Part ignored
	end      time.Time
	from, to uint64    // the sequence range it covers (supplements), or read (closed records)
	since    time.Time // stream time the grace runs from: the period's last mark, or the adjustment message
}

// settlePlan decides what a planning failure becomes. A permanent one, or one that may yet succeed
// (records incomplete, product unknown) once PlanGrace has passed, parks the revision: its missing parts
// are written as failed entries with the reason, and nil is returned, so the message is settled and the
// failure stays in the ledger for an operator rather than being retried for ever. Others are returned (the
// message is redelivered later).
func (pl *planner) settlePlan(ctx context.Context, f failedRevision, err error) (*ledger.Entry, error) {
	switch {
	case err == nil:
		return nil, nil
	case errors.Is(err, errPermanent):
	case pl.now().Sub(f.since) < pl.grace:
		return nil, err
	case errors.Is(err, errIncomplete):
		err = permanent(reasonRecordsMissing, err)
	case errors.Is(err, errUnknownProduct):
		err = permanent(reasonUnknownProduct, err)
	default:
		return nil, err
	}
	return pl.parkRevision(ctx, f, err)
}

// parkRevision writes every missing part of f's revision as a failed entry (a revision without part 1 gets
// a part 1 of 1) and returns its part 1.
func (pl *planner) parkRevision(ctx context.Context, f failedRevision, cause error) (*ledger.Entry, error) {
	id := f.id
	id.Part = 1
	first, _, err := pl.ledger.Get(ctx, id.Key())
	if errors.Is(err, bus.ErrNotFound) {
		first = pl.failedEntry(f, 1, 1, 0, cause)
		if _, err = pl.ledger.Create(ctx, first); err == nil {
			pl.announceParked(ctx, first, cause)
			return first, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("submitter: park %s: %w", id.Key(), err) // created meanwhile: look again later
	}
	return first, pl.parkParts(ctx, first, cause)
}

// parkParts writes the parts of first's revision missing from the ledger as failed entries.
func (pl *planner) parkParts(ctx context.Context, first *ledger.Entry, cause error) error {
	f := failedRevision{id: first.ID(), end: first.PeriodEnd, from: first.FromSeq, to: first.ToSeq}
	for part := 2; part <= first.Parts; part++ {
		e := pl.failedEntry(f, part, first.Parts, first.Limit, cause)
		_, err := pl.ledger.Create(ctx, e)
		switch {
		case err == nil:
			pl.announceParked(ctx, e, cause)
		case !errors.Is(err, bus.ErrExists):
			return fmt.Errorf("submitter: park %s: %w", e.Key, err)
		}
	}
	return nil
}

// failedEntry is the ledger entry of one part of a revision that could not be planned: no records, the
// failure as its reason.
func (pl *planner) failedEntry(f failedRevision, part, parts, limit int, cause error) *ledger.Entry {
	id := f.id
	id.Part = part
	now := pl.now().UTC()
	name := id.Product
	if p, ok := pl.catalog.Product(id.Product); ok && p.Name != "" {
		name = p.Name
	}
	e := &ledger.Entry{Key: id.Key(), Product: id.Product, Contract: id.Contract, PeriodStart: id.PeriodStart.UTC(),
		PeriodEnd: f.end.UTC(), Revision: id.Revision, Part: part, Parts: parts, Limit: limit, FromSeq: f.from,
		ToSeq: f.to, ExternalID: id.ExternalID(), ClosedAt: f.since.UTC(), PlannedAt: now, State: ledger.StatePlanned,
		History: []ledger.Transition{{State: ledger.StatePlanned, At: now}}, Reason: cause.Error(), LastError: cause.Error()}
	e.Name = fileName(name, time.UTC, e.PeriodStart, e.PeriodEnd, id.Revision, part, parts)
	_ = e.MoveTo(ledger.StateFailed, now, cause.Error())
	return e
}

// announceParked reports a failed entry written by planning: the plans_failed metric, announce (which logs
// it as an error for an operator), and the parked key of its revision (ledger.Parked).
func (pl *planner) announceParked(ctx context.Context, e *ledger.Entry, cause error) {
	pl.ins.plansFailed.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reasonOf(cause))))
	pl.announce(ctx, e)
	noteParked(ctx, pl.ledger, pl.log, e)
}
