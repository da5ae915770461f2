package chaos

import (
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Truth folds unique events into what Connect must bill per key: the final value of each item's aggregation
// over all of the key's events (late ones included), and the sum of their amounts. Value.Records counts the
// key's events.
func Truth(cat *events.Catalog, evs []events.Event) (reconcile.Totals, error) {
	accs := map[reconcile.Key]*truthAcc{}
	for i := range evs {
		e := &evs[i]
		k, it, err := truthKey(cat, e)
		if err != nil {
			return nil, fmt.Errorf("chaos: truth: event %s: %w", e.ID, err)
		}
		a := accs[k]
		if a == nil {
			a = &truthAcc{}
			accs[k] = a
		}
		a.add(it, e)
	}
	t := make(reconcile.Totals, len(accs))
	for k, a := range accs {
		t[k] = reconcile.Value{Quantity: a.qty, Amount: a.amount, Records: a.events}
	}
	return t, nil
}

func truthKey(cat *events.Catalog, e *events.Event) (reconcile.Key, *events.Item, error) {
	p, ok := cat.Product(e.Data.Product)
	if !ok {
		return reconcile.Key{}, nil, fmt.Errorf("unknown product %s", e.Data.Product)
	}
	it, ok := p.Item(e.Data.Item)
	if !ok {
		return reconcile.Key{}, nil, fmt.Errorf("unknown item %s", e.Data.Item)
	}
	contract, _ := p.ContractFor(e)
	start := p.PeriodOf(e.Time).Start
	return reconcile.NewKey(p, p.ID, contract, e.Subject, it.MPN, e.Data.Tier, start), it, nil
}

// truthAcc is one key's running aggregate.
type truthAcc struct {
	qty    events.Decimal
	amount events.Decimal
	events int
	last   time.Time           // last: time of the event whose quantity is held
	unique map[string]struct{} // unique_count: the values seen
}

func (a *truthAcc) add(it *events.Item, e *events.Event) {
	q, first := e.Data.Quantity, a.events == 0
	switch it.Aggregation {
	case events.AggregationSum:
		a.qty = a.qty.Add(q)
	case events.AggregationCount:
		a.qty = a.qty.Add(events.DecimalFromInt(1))
	case events.AggregationMax:
		if first || q.Cmp(a.qty) > 0 {
			a.qty = q
		}
	case events.AggregationMin:
		if first || q.Cmp(a.qty) < 0 {
			a.qty = q
		}
	case events.AggregationLast:
		if first || e.Time.After(a.last) {
			a.qty, a.last = q, e.Time
		}
	case events.AggregationUniqueCount:
		if a.unique == nil {
			a.unique = map[string]struct{}{}
		}
		a.unique[e.Data.Attributes[it.UniqueAttribute]] = struct{}{}
		a.qty = events.DecimalFromInt(int64(len(a.unique)))
	}
	if e.Data.Amount != nil {
		a.amount = a.amount.Add(*e.Data.Amount)
	}
	a.events++
}
