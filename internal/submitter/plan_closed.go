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

// consumeMarks hands every mark message of USAGE_AGG to onMark, until ctx ends.
func (pl *planner) consumeMarks(ctx context.Context) error {
	return pl.agg.Consume(ctx, bus.StreamAgg, bus.ConsumeOptions{Durable: durableMarks,
		Filters: []string{subjects.Marks.All()}, AckWait: pl.ackWait, PullMaxMessages: consumerPull}, pl.settle(pl.onMark))
}

// onMark plans the files of each period a mark message names, once every partition has marked it.
func (pl *planner) onMark(ctx context.Context, d *bus.Delivery) error {
	marks, err := decodeLines[events.PartitionMark](d.Data)
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	for _, m := range marks {
		if m.Partitions < 1 || m.Product == "" || m.Contract == "" {
			return fmt.Errorf("%w: mark %+v", errMalformed, m)
		}
		if err := pl.planPeriod(ctx, m, d); err != nil {
			return err
		}
	}
	return nil
}

// planPeriod plans the closed-record files of m's period, delivered in d (planClosedRevision).
func (pl *planner) planPeriod(ctx context.Context, m events.PartitionMark, d *bus.Delivery) error {
	return pl.planClosedRevision(ctx, m, d.Header, pl.alive(d))
}

// planClosedRevision plans the closed-record files of m's period if all its partitions have marked it and
// it is not planned yet. A period without any closed record gets no file. A period whose part 1 is in the
// ledger already is finished as that entry planned it (planOf). A failure that retrying cannot fix parks
// the revision (settlePlan). h is the triggering message's header (its trace context), alive keeps it.
func (pl *planner) planClosedRevision(ctx context.Context, m events.PartitionMark, h bus.Header, alive func()) error {
	first := ledger.FileID{Product: m.Product, Contract: m.Contract, PeriodStart: m.PeriodStart, Part: 1}
	e, done, err := pl.planned(ctx, first.Key())
	if err != nil || done {
		return err
	}
	if e != nil {
		ctx, span := pl.startPlan(ctx, first, h)
		defer span.End()
		f := failedRevision{id: first, end: e.PeriodEnd, from: e.FromSeq, to: e.ToSeq, since: e.ClosedAt}
		_, err := pl.settlePlan(ctx, f, pl.finishPlan(ctx, e, alive))
		return endPlan(span, err)
	}
	closedAt, expected, complete, err := pl.periodMarks(ctx, m)
	if err != nil || !complete || expected == 0 {
		return err
	}
	ctx, span := pl.startPlan(ctx, first, h)
	defer span.End()
	toSeq, err := pl.planClosed(ctx, first, m.PeriodEnd, closedAt, expected, alive)
	_, err = pl.settlePlan(ctx, failedRevision{id: first, end: m.PeriodEnd, to: toSeq, since: closedAt}, err)
	return endPlan(span, err)
}

// planClosed reads every closed record of first's period, checks them against the count of the marks, and
// plans its files; it returns the last sequence read.
func (pl *planner) planClosed(ctx context.Context, first ledger.FileID, end, closedAt time.Time, expected int, alive func()) (uint64, error) {
	filter := subjects.Records.Period(first.Product, first.Contract, first.PeriodStart)
	set, err := readSources(ctx, pl.agg, filter, 0, 0, alive)
	switch {
	case err != nil:
		return 0, err
	case len(set.records) < expected:
		return set.lastSeq, fmt.Errorf("%w: %s: %d of %d records", errIncomplete, filter, len(set.records), expected)
	case len(set.records) > expected:
		return set.lastSeq, permanent(reasonRecordsExceed, fmt.Errorf("%s: %d records, the marks count %d", filter, len(set.records), expected))
	}
	p := plan{id: first, end: end, set: set, records: set.records, closedAt: closedAt, toSeq: set.lastSeq}
	_, err = pl.planFiles(ctx, p, alive)
	return set.lastSeq, err
}

// planned returns the first part of a plan and whether every part of it is in the ledger.
func (pl *planner) planned(ctx context.Context, firstKey string) (*ledger.Entry, bool, error) {
	e, _, err := pl.ledger.Get(ctx, firstKey)
	if errors.Is(err, bus.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	id := e.ID()
	for id.Part = 2; id.Part <= e.Parts; id.Part++ {
		if _, _, err := pl.ledger.Get(ctx, id.Key()); errors.Is(err, bus.ErrNotFound) {
			return e, false, nil
		} else if err != nil {
			return nil, false, err
		}
	}
	return e, true, nil
}

// periodMarks reads the last mark of every partition of m's period: complete is false while one is
// missing; records is the sum of their record counts and closedAt the stream time of the newest.
func (pl *planner) periodMarks(ctx context.Context, m events.PartitionMark) (closedAt time.Time, records int, complete bool, err error) {
	for p := range m.Partitions {
		subject := subjects.Marks.Subject(m.Product, m.Contract, m.PeriodStart, p)
		msg, err := pl.agg.LastMsg(ctx, bus.StreamAgg, subject)
		if errors.Is(err, bus.ErrNotFound) {
			return time.Time{}, 0, false, nil
		}
		if err != nil {
			return time.Time{}, 0, false, err
		}
		n, ok, err := markedRecords(msg.Data, m)
		if err != nil || !ok {
			return time.Time{}, 0, false, err
		}
		records += n
		if msg.Time.After(closedAt) {
			closedAt = msg.Time
		}
	}
	return closedAt, records, true, nil
}

// markedRecords returns the record count of the mark of m's period in a mark message.
func markedRecords(data []byte, m events.PartitionMark) (int, bool, error) {
	marks, err := decodeLines[events.PartitionMark](data)
	if err != nil {
		return 0, false, err
	}
	for _, x := range marks {
		if x.Product == m.Product && x.Contract == m.Contract && x.PeriodStart.Equal(m.PeriodStart) {
			return x.Records, true, nil
		}
	}
	return 0, false, nil
}
