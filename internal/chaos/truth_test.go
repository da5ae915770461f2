package chaos

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// testCatalog writes the catalogs of n products into a temporary directory and returns the pipeline's.
func testCatalog(t *testing.T, n, subscriptions int) (*events.Catalog, []product) {
	t.Helper()
	ps := runProducts(n, nil)
	_, cat, err := writeCatalogs(t.TempDir(), ps, nil, subscriptions)
	if err != nil {
		t.Fatal(err)
	}
	return cat, ps
}

func TestTruthFoldsEachAggregation(t *testing.T) {
	cat, ps := testCatalog(t, 3, 3)
	base := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC) // a multiple of every period length
	ev := func(p, item int, at time.Duration, qty string, amount string, attr string) events.Event {
		e := events.Event{ID: at.String() + qty, Subject: subscription(p, 3), Time: base.Add(at),
			Data: events.Usage{Product: ps[p].id, Item: ps[p].items[item].mpn, Quantity: events.MustDecimal(qty)}}
		if ps[p].schema == events.SchemaTR {
			e.Data.Tier = 1
		}
		if amount != "" {
			a := events.MustDecimal(amount)
			e.Data.Amount = &a
		}
		if attr != "" {
			e.Data.Attributes = map[string]string{"user_id": attr}
		}
		return e
	}
	evs := []events.Event{
		ev(0, 0, 0, "1.5", "", ""), ev(0, 0, time.Second, "2.25", "", ""), // sum
		ev(0, 1, 0, "7", "", ""), ev(0, 1, time.Second, "9", "", ""), ev(0, 1, 2*time.Second, "1", "", ""), // count
		ev(1, 0, time.Second, "3.5", "", ""), ev(1, 0, 0, "8.25", "", ""), ev(1, 0, 2*time.Second, "4", "", ""), // max
		ev(1, 1, 3*time.Second, "5", "", ""), ev(1, 1, 5*time.Second, "6", "", ""), ev(1, 1, 4*time.Second, "7", "", ""), // last
		ev(2, 0, 0, "1", "1.10", "a"), ev(2, 0, time.Second, "1", "2.20", "b"), ev(2, 0, 2*time.Second, "1", "3.30", "a"), // unique
		ev(2, 1, 0, "40", "0.01", ""), ev(2, 1, time.Second, "12", "0.02", ""), ev(2, 1, 2*time.Second, "30", "0", ""), // min
		ev(0, 0, 4*time.Second, "10", "", ""), // the next period of the 4s product
	}
	truth, err := Truth(cat, evs)
	if err != nil {
		t.Fatal(err)
	}
	key := func(p, item int, start time.Time) reconcile.Key {
		tier := 0
		if ps[p].schema == events.SchemaTR {
			tier = 1
		}
		return reconcile.Key{Product: ps[p].id, Contract: ps[p].contract, Asset: subscription(p, 3),
			Item: ps[p].items[item].mpn, Tier: tier, Period: reconcile.PeriodKey(start)}
	}
	want := map[reconcile.Key][2]string{
		key(0, 0, base):                    {"3.75", "0"},
		key(0, 1, base):                    {"3", "0"},
		key(1, 0, base):                    {"8.25", "0"},
		key(1, 1, base):                    {"6", "0"},
		key(2, 0, base):                    {"2", "6.6"},
		key(2, 1, base):                    {"12", "0.03"},
		key(0, 0, base.Add(4*time.Second)): {"10", "0"},
	}
	if len(truth) != len(want) {
		t.Errorf("keys: want %d, have %d: %v", len(want), len(truth), truth.Keys())
	}
	for k, w := range want {
		v, ok := truth[k]
		if !ok || !v.Quantity.Equal(events.MustDecimal(w[0])) || !v.Amount.Equal(events.MustDecimal(w[1])) {
			t.Errorf("%s: want %s (amount %s), have %v (present %v)", k, w[0], w[1], v, ok)
		}
	}
}
