package reconcile

import (
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func value(qty, amount string) Value {
	return Value{Quantity: events.MustDecimal(qty), Amount: events.MustDecimal(amount), Records: 1}
}

func TestCompareClassifiesDifferences(t *testing.T) {
	k := func(asset string) Key {
		return Key{Product: "PRD-1", Contract: "CRD-1", Asset: asset, Item: "ITEM", Period: "20260520T000000Z"}
	}
	want := Totals{k("AS-1"): value("10", "0"), k("AS-2"): value("5", "1.5"), k("AS-3"): value("7", "0"),
		k("AS-4"): value("3", "0"), k("AS-6"): value("0", "0")}
	have := Totals{k("AS-1"): value("10.000", "0"), k("AS-2"): value("5", "1.25"), k("AS-3"): value("14", "0"),
		k("AS-5"): value("1", "0"), k("AS-7"): value("0", "0")}
	diffs := Compare(want, have)
	kinds := map[string]string{}
	for _, d := range diffs {
		kinds[d.Key.Asset] = d.Kind()
	}
	wantKinds := map[string]string{"AS-2": Lost, "AS-3": Doubled, "AS-4": Lost, "AS-5": Doubled}
	if len(kinds) != len(wantKinds) {
		t.Fatalf("differences: want %v, have %v", wantKinds, kinds)
	}
	for asset, kind := range wantKinds {
		if kinds[asset] != kind {
			t.Errorf("%s: want %s, have %q", asset, kind, kinds[asset])
		}
	}
	if lost, doubled := Count(diffs); lost != 2 || doubled != 2 {
		t.Errorf("count: lost %d, doubled %d", lost, doubled)
	}
	var b strings.Builder
	WriteDifferences(&b, diffs, 3)
	if !strings.Contains(b.String(), "AS-2 ITEM 20260520T000000Z: want 5 (amount 1.5)") || !strings.Contains(b.String(), "and 1 more") {
		t.Errorf("listing:\n%s", b.String())
	}
}
