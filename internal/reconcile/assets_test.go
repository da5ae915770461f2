package reconcile

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// paramCatalogYAML is catalogYAML with assets found by the vendor's subscription id.
var paramCatalogYAML = strings.Replace(catalogYAML, "    period: {kind: daily}\n",
	"    period: {kind: daily}\n    asset_search: parameter.subscription_id\n", 1)

// connectAssets renders the emulator's assets (all but skip) as Connect's assets list answers them.
func (w *world) connectAssets(skip ...string) []byte {
	w.t.Helper()
	type param struct{ ID, Value string }
	type asset struct {
		ID      string            `json:"id"`
		Product map[string]string `json:"product"`
		Params  []param           `json:"params"`
	}
	var out []asset
	for _, a := range w.emu.Catalog().Assets {
		if slices.Contains(skip, a.ID) {
			continue
		}
		as := asset{ID: a.ID, Product: map[string]string{"id": a.Product}}
		for _, k := range slices.Sorted(maps.Keys(a.Params)) {
			as.Params = append(as.Params, param{ID: k, Value: a.Params[k]})
		}
		out = append(out, as)
	}
	b, err := json.Marshal(out)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// TestParameterSearchedAssetsAreKeyedBySubscription bills two subscriptions' usage swapped: summed over
// assets the swap cancels out; keyed through Connect's assets it is one lost and one doubled key.
func TestParameterSearchedAssetsAreKeyedBySubscription(t *testing.T) {
	w := newWorldOf(t, paramCatalogYAML)
	closed := []events.PeriodRecord{
		record("sub-0001", "CPU_HOURS", 0, events.ModeTotal, "10.5"),
		record("sub-0002", "CPU_HOURS", 0, events.ModeTotal, "7"),
	}
	w.publish(closed...)
	w.mark(closed)
	const search = "parameter.subscription_id"
	w.handFile("usagepipe:"+product+":"+contract+":20260310T000000Z:r0:p1",
		dayRow(search, "sub-0001", "CPU_HOURS", "7"), dayRow(search, "sub-0002", "CPU_HOURS", "10.5"))

	if r := w.reconcile(); len(r.Findings) != 0 || !slices.Equal(r.AnyAsset, []string{product}) {
		t.Errorf("without an asset map: findings %v, compared over all assets: %v", r.Findings, r.AnyAsset)
	}
	assets, err := ParseAssetMap(w.connectAssets(), w.cat)
	if err != nil {
		t.Fatal(err)
	}
	r := w.reconcileWith(Options{Assets: assets})
	if len(r.Findings) != 2 || len(r.AnyAsset) != 0 {
		t.Fatalf("with the asset map: findings %v, over all assets %v", r.Findings, r.AnyAsset)
	}
	for i, want := range []struct{ asset, kind string }{{"sub-0001", Lost}, {"sub-0002", Doubled}} {
		if f := r.Findings[i]; f.Key.Asset != want.asset || f.Kind() != want.kind {
			t.Errorf("finding %d: %s, want %s %s", i, f.Difference, want.kind, want.asset)
		}
	}
	partial, err := ParseAssetMap(w.connectAssets("AS-0000-0000-0002"), w.cat)
	if err != nil {
		t.Fatal(err)
	}
	r = w.reconcileWith(Options{Assets: partial})
	if issues := strings.Join(r.LedgerIssues, "\n"); !strings.Contains(issues, "AS-0000-0000-0002") || !strings.Contains(issues, "asset map") {
		t.Errorf("a record of an asset the map lacks is not reported: %s", issues)
	}
}

func TestAssetMapRefusesAmbiguousSubscriptions(t *testing.T) {
	cat, err := events.ParseCatalog([]byte(paramCatalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	data := `[{"id":"AS-1","product":{"id":"` + product + `"},"params":[{"id":"subscription_id","value":"s"}]},
		{"id":"AS-2","product":{"id":"` + product + `"},"params":[{"id":"subscription_id","value":"s"}]},
		{"id":"AS-3","product":{"id":"PRD-OTHER"},"params":[{"id":"subscription_id","value":"s"}]}]`
	if _, err := ParseAssetMap([]byte(data), cat); !errors.Is(err, ErrAssetMap) || !strings.Contains(err.Error(), "AS-1 and AS-2") {
		t.Errorf("two assets with one subscription: %v", err)
	}
	m, err := ParseAssetMap([]byte(data[:strings.Index(data, ",\n")]+"]"), cat)
	if err != nil || m[product]["AS-1"] != "s" || len(m) != 1 {
		t.Errorf("one asset: %v, %v", m, err)
	}
}
