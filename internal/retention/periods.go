package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// period names a (product, contract, period).
type period struct {
	product, contract string
	start             time.Time
}

// state is what a round reads once: the ledger's entries by period and revision, and the adjustments
// consumer's ack floor.
type state struct {
	revisions map[period]map[int][]*ledger.Entry
	ackFloor  uint64
}

func (r *Retainer) readState(ctx context.Context) (*state, error) {
	entries, err := r.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("retention: ledger: %w", err)
	}
	st := &state{revisions: map[period]map[int][]*ledger.Entry{}}
	for _, e := range entries {
		k := period{e.Product, e.Contract, e.PeriodStart.UTC()}
		if st.revisions[k] == nil {
			st.revisions[k] = map[int][]*ledger.Entry{}
		}
		st.revisions[k][e.Revision] = append(st.revisions[k][e.Revision], e)
	}
	st.ackFloor, err = r.streams.AckFloor(ctx, bus.StreamAgg, r.o.AdjustmentsConsumer)
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		return nil, fmt.Errorf("retention: %w", err)
	}
	return st, nil
}

// billed reports whether a revision is done with for good: every part in the ledger, each accepted, closed
// or empty.
func billed(parts []*ledger.Entry) bool {
	if len(parts) == 0 || len(parts) < parts[0].Parts {
		return false
	}
	for _, e := range parts {
		if !e.State.Billed() {
			return false
		}
	}
	return true
}

// periods purges the closed records and marks of every period whose revision 0 is billed, and the
// adjustments its billed supplements cover.
func (r *Retainer) periods(ctx context.Context, st *state, floor uint64) ([]Purge, error) {
	var out []Purge
	for k, revs := range st.revisions {
		if billed(revs[0]) {
			why := "revision 0 of the period is billed (" + ledger.RevisionPrefix(revs[0][0].ID()) + "*)"
			for _, o := range []subjects.Output{subjects.Records, subjects.Marks} {
				if err := r.purge(ctx, &out, bus.StreamAgg, o.Period(k.product, k.contract, k.start), wholeSubject, floor, why); err != nil {
					return out, err
				}
			}
		}
		if err := r.adjustments(ctx, &out, st, k, revs, floor); err != nil {
			return out, err
		}
	}
	return out, nil
}

// adjustments purges the adjustments of period k that its supplements cover, once each of them is billed
// and the adjustments consumer has acknowledged past them.
func (r *Retainer) adjustments(ctx context.Context, out *[]Purge, st *state, k period, revs map[int][]*ledger.Entry, floor uint64) error {
	idx, _, err := r.ledger.Index(ctx, ledger.SupplementIndexKey(k.product, k.contract, k.start))
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if idx.Next <= 1 || idx.Covered == 0 || st.ackFloor < idx.Covered {
		return nil
	}
	for n := 1; n < idx.Next; n++ {
		if !billed(revs[n]) {
			return nil
		}
	}
	why := fmt.Sprintf("supplements 1..%d are billed and cover the adjustments up to seq %d", idx.Next-1, idx.Covered)
	return r.purge(ctx, out, bus.StreamAgg, subjects.Adjustments.Period(k.product, k.contract, k.start), idx.Covered+1, floor, why)
}
