package retention

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// emptyPeriods purges the marks of periods without closed records (no revision 0 in the ledger, every
// partition's mark counting none) whose max event age is over (no adjustment can come from the aggregator
// any more), after noting no_closed_records in the period's supplement index, which the supplement gate
// reads instead of the marks.
func (r *Retainer) emptyPeriods(ctx context.Context, st *state, floor uint64) ([]Purge, error) {
	counts, err := r.streams.SubjectCounts(ctx, bus.StreamAgg, subjects.Marks.All())
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	seen := map[string]bool{}
	var out []Purge
	for subject := range counts {
		ps, err := subjects.ParsePeriod(subject)
		if err != nil {
			continue
		}
		filter := subjects.Marks.Period(ps.Product, ps.Contract, ps.PeriodStart) // tokens as they are
		if seen[filter] {
			continue
		}
		seen[filter] = true
		if err := r.emptyPeriod(ctx, &out, st, ps, floor); err != nil {
			return out, err
		}
	}
	return out, nil
}

// emptyPeriod purges the marks of one period if it is a period without closed records whose age is over
// (its index says so already: a purge may have left marks stored after its floor).
func (r *Retainer) emptyPeriod(ctx context.Context, out *[]Purge, st *state, ps subjects.PeriodSubject, floor uint64) error {
	marks, err := r.lastMarks(ctx, ps)
	if err != nil || len(marks) == 0 {
		return err
	}
	m := marks[0]
	k := period{m.Product, m.Contract, m.PeriodStart.UTC()}
	why := "every partition marked the period without closed records, and its max event age is over"
	idx, _, err := r.ledger.Index(ctx, ledger.SupplementIndexKey(k.product, k.contract, k.start))
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if idx.NoClosedRecords {
		return r.purge(ctx, out, bus.StreamAgg, subjects.Marks.Period(k.product, k.contract, k.start), wholeSubject, floor, why)
	}
	if len(marks) < r.o.Partitions {
		return nil
	}
	if len(st.revisions[k][0]) > 0 || !r.ageOver(m) {
		return nil
	}
	for _, x := range marks {
		if x.Records > 0 {
			return nil
		}
	}
	if err := r.noteNoClosedRecords(ctx, k); err != nil {
		return err
	}
	return r.purge(ctx, out, bus.StreamAgg, subjects.Marks.Period(k.product, k.contract, k.start), wholeSubject, floor, why)
}

// lastMarks reads the newest mark of each partition of a period that has one.
func (r *Retainer) lastMarks(ctx context.Context, ps subjects.PeriodSubject) ([]events.PartitionMark, error) {
	var marks []events.PartitionMark
	for p := range r.o.Partitions {
		ps.Partition = p
		msg, err := r.streams.LastMsg(ctx, bus.StreamAgg, ps.String())
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("retention: %w", err)
		}
		var m events.PartitionMark
		if err := json.Unmarshal(bytes.TrimSpace(lastLine(msg.Data)), &m); err != nil {
			return nil, fmt.Errorf("retention: mark at seq %d: %w", msg.Seq, err)
		}
		marks = append(marks, m)
	}
	return marks, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// ageOver reports whether no event of the mark's period can reach the aggregator any more: its close plus
// its product's max event age (retired products, not in the catalog, are kept).
func (r *Retainer) ageOver(m events.PartitionMark) bool {
	p, ok := r.o.Catalog.Product(m.Product)
	if !ok {
		return false
	}
	pd := events.Period{Start: m.PeriodStart, End: m.PeriodEnd}
	return p.CloseAt(pd).Add(p.MaxEventAge).Before(r.o.Now().Add(-r.o.MinAge))
}

// noteNoClosedRecords writes no_closed_records into the period's supplement index (compare-and-set).
func (r *Retainer) noteNoClosedRecords(ctx context.Context, k period) error {
	key := ledger.SupplementIndexKey(k.product, k.contract, k.start)
	for range 8 {
		idx, rev, err := r.ledger.Index(ctx, key)
		if err != nil || idx.NoClosedRecords {
			return err
		}
		idx.NoClosedRecords = true
		err = r.ledger.PutIndex(ctx, key, idx, rev)
		if err == nil || !errors.Is(err, bus.ErrExists) && !errors.Is(err, bus.ErrRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("retention: supplement index %s: changed by others 8 times in a row", key)
}
