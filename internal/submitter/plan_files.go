package submitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"go.opentelemetry.io/otel/metric"
)

// plan is what planFiles writes to the ledger: one report revision of a period.
type plan struct {
	id             FileID // Part ignored
	end            time.Time
	set            *sourceSet
	records        []source // the records reported (supplements: without no-op adjustments), sorted by id
	closedAt       time.Time
	fromSeq, toSeq uint64
	limit          int // records per part; 0: Options.MaxRecordsPerFile
}

// planFiles writes one ledger entry per part of p (Create: parts already there are kept as they are) and
// hands the new ones to the driver. A revision without records gets one entry, empty at once.
func (s *Submitter) planFiles(ctx context.Context, p plan) error {
	if p.limit == 0 {
		p.limit = s.opts.MaxRecordsPerFile
	}
	spec, err := specFor(s.opts.Catalog, p.id.Product, p.records)
	if err != nil {
		return fmt.Errorf("submitter: plan %s: %w", p.id.Key(), err)
	}
	parts := partCount(len(p.records), p.limit)
	for part := 1; part <= parts; part++ {
		e := s.newEntry(p, &spec, part, parts)
		if _, err := s.ledger.create(ctx, e); errors.Is(err, bus.ErrExists) {
			continue
		} else if err != nil {
			return fmt.Errorf("submitter: plan %s: %w", e.Key, err)
		}
		lo, hi := partRange(part, p.limit, len(p.records))
		s.cache.put(e.Key, p.records[lo:hi])
		s.announce(ctx, e)
	}
	return nil
}

// newEntry is the ledger entry of one part of p.
func (s *Submitter) newEntry(p plan, spec *FileSpec, part, parts int) *Entry {
	id := p.id
	id.Part = part
	lo, hi := partRange(part, p.limit, len(p.records))
	now := s.now().UTC()
	e := &Entry{Key: id.Key(), Product: id.Product, Contract: id.Contract, PeriodStart: id.PeriodStart.UTC(),
		PeriodEnd: p.end.UTC(), Revision: id.Revision, Part: part, Parts: parts, Limit: p.limit,
		FromSeq: p.fromSeq, ToSeq: p.toSeq, Records: hi - lo, Digest: digestIDs(p.records[lo:hi]), Spec: *spec,
		ExternalID: id.ExternalID(), ClosedAt: p.closedAt.UTC(), PlannedAt: now, Links: p.set.links,
		State: StatePlanned, History: []Transition{{State: StatePlanned, At: now}}}
	e.Name = fileName(spec.ProductName, spec.location(), e.PeriodStart, e.PeriodEnd, id.Revision, part, parts)
	if e.Records == 0 {
		e.Reason = "no adjustment changes a reported value"
		_ = e.moveTo(StateEmpty, now, e.Reason)
	}
	return e
}

// announce reports a new entry: metrics, log, and the driver when there is work.
func (s *Submitter) announce(ctx context.Context, e *Entry) {
	s.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, StatePlanned)...))
	s.ins.track(e.Key, e.State)
	s.log.InfoContext(ctx, "usage file planned", "key", e.Key, "external_id", e.ExternalID, "records", e.Records,
		"part", e.Part, "parts", e.Parts, "state", e.State)
	if !e.State.Terminal() {
		s.drv.add(e.Key, time.Time{})
	} else {
		s.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, e.State)...))
	}
}
