package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// PeriodRef is one usage file's scope: a product, contract and period.
type PeriodRef struct{ Product, Contract, Period string }

// AggView is the aggregator's output in USAGE_AGG, folded per key.
type AggView struct {
	Totals      Totals            // final value per key (Records counts revisions)
	Marked      map[PeriodRef]int // partitions that have marked each period closed
	Partitions  int               // P, from the marks (0 when there is none)
	Closed      int               // closed records read
	Adjustments int               // adjustment records read
	Adjusted    map[string]int    // adjustment records per product
	Duplicates  []string          // record ids (revisions) stored more than once, described
	Resubmitted int               // records a replay resubmitted (not folded: they re-report a value already in)
}

// Complete reports whether every partition has marked the period closed.
func (v *AggView) Complete(r PeriodRef) bool { return v.Partitions > 0 && v.Marked[r] >= v.Partitions }

// ReadAgg reads every closed record, adjustment and mark stored in USAGE_AGG now, and folds them per key
// (see Keyer).
func ReadAgg(ctx context.Context, conn *bus.Conn, k Keyer) (*AggView, error) {
	f := newAggFolder(k)
	o := bus.ReadOptions{Filters: []string{subjects.Records.All(), subjects.Adjustments.All(), subjects.Marks.All()}}
	if err := conn.Read(ctx, bus.StreamAgg, o, f.message); err != nil {
		return nil, fmt.Errorf("reconcile: read %s: %w", bus.StreamAgg, err)
	}
	return f.view(), nil
}

// revision is one stored record of a key.
type revision struct {
	n      int
	mode   events.ValueMode
	qty    events.Decimal
	amount *events.Decimal
}

// aggFolder accumulates USAGE_AGG messages.
type aggFolder struct {
	keyer Keyer
	revs  map[Key][]revision
	seen  map[string]bool
	marks map[PeriodRef]map[int]bool
	v     AggView
}

func newAggFolder(k Keyer) *aggFolder {
	return &aggFolder{keyer: k, revs: map[Key][]revision{}, seen: map[string]bool{}, marks: map[PeriodRef]map[int]bool{},
		v: AggView{Adjusted: map[string]int{}}}
}

// message folds one message: JSON lines of records or marks, per its Usagepipe-Kind header.
func (f *aggFolder) message(m bus.Msg) error {
	kind := m.Header.Get(events.HeaderKind)
	for line := range bytes.Lines(m.Data) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		var err error
		switch kind {
		case events.KindRecords, events.KindAdjustments:
			err = f.record(line)
		case events.KindMark:
			err = f.mark(line)
		}
		if err != nil {
			return fmt.Errorf("message %d (%s): %w", m.Seq, m.Subject, err)
		}
	}
	return nil
}

func (f *aggFolder) record(line []byte) error {
	var r events.PeriodRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	if r.Resubmits != "" { // a replay's resubmission of a record Connect refused: its value is folded already
		f.v.Resubmitted++
		return nil
	}
	k := SubscriptionKey(&r) // view folds per subscription, then keys (several may share AnyAsset)
	id := r.RecordID()
	if f.seen[id] {
		f.v.Duplicates = append(f.v.Duplicates, fmt.Sprintf("%s revision %d (record id %s)", k, r.Revision, id))
		return nil
	}
	f.seen[id] = true
	if r.Kind == events.RecordAdjustment {
		f.v.Adjustments++
		f.v.Adjusted[r.Product]++
	} else {
		f.v.Closed++
	}
	f.revs[k] = append(f.revs[k], revision{n: r.Revision, mode: r.Mode, qty: r.Quantity, amount: r.Amount})
	return nil
}

func (f *aggFolder) mark(line []byte) error {
	var m events.PartitionMark
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("decode mark: %w", err)
	}
	ref := PeriodRef{Product: m.Product, Contract: m.Contract, Period: PeriodKey(m.PeriodStart)}
	if f.marks[ref] == nil {
		f.marks[ref] = map[int]bool{}
	}
	f.marks[ref][m.Partition] = true
	f.v.Partitions = max(f.v.Partitions, m.Partitions)
	return nil
}

// view folds each subscription key's revisions in revision order: a total or replace sets the quantity, a
// delta adds to it; amounts always add up. The folded values are then summed per Keyer key (several
// subscriptions share the AnyAsset key).
func (f *aggFolder) view() *AggView {
	v := f.v
	v.Totals, v.Marked = Totals{}, map[PeriodRef]int{}
	for k, revs := range f.revs {
		slices.SortFunc(revs, func(a, b revision) int { return a.n - b.n })
		var val Value
		for _, r := range revs {
			if r.mode == events.ModeDelta {
				val.Quantity = val.Quantity.Add(r.qty)
			} else {
				val.Quantity = r.qty
			}
			if r.amount != nil {
				val.Amount = val.Amount.Add(*r.amount)
			}
			val.Records++
		}
		v.Totals.merge(f.keyer.rekey(k), val)
	}
	for ref, parts := range f.marks {
		v.Marked[ref] = len(parts)
	}
	return &v
}

// merge adds v (its quantity, amount and records) to k's total.
func (t Totals) merge(k Key, v Value) {
	have := t[k]
	t[k] = Value{Quantity: have.Quantity.Add(v.Quantity), Amount: have.Amount.Add(v.Amount), Records: have.Records + v.Records}
}
