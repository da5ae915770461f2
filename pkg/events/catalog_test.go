package events

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadExampleCatalog(t *testing.T) {
	c, err := LoadCatalog("../../deploy/catalog.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Products) != 4 {
		t.Fatalf("%d products, want 4", len(c.Products))
	}
	schemas := map[Schema]bool{}
	kinds := map[PeriodKind]bool{}
	aggs := map[Aggregation]bool{}
	for _, p := range c.Products {
		schemas[p.Schema] = true
		kinds[p.Period.Kind] = true
		for _, it := range p.Items {
			aggs[it.Aggregation] = true
		}
		if p.Period.Location != p.Location || p.Location == nil {
			t.Errorf("%s: period location not set from the time zone", p.ID)
		}
	}
	if len(schemas) < 3 || len(kinds) < 3 || len(aggs) != 6 {
		t.Errorf("example covers schemas %v, period kinds %v, aggregations %v", schemas, kinds, aggs)
	}
	p, ok := c.Product("PRD-DEMO-0001")
	if !ok || p.Period.Every != time.Minute || p.AllowedLateness != 10*time.Second {
		t.Fatalf("demo product: %+v", p)
	}
	if pd := p.PeriodOf(time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)); pd.End.Sub(pd.Start) != time.Minute {
		t.Errorf("demo period %v", pd)
	}
}

const minimalCatalog = `
products:
  - id: PRD-1
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: daily}
    items:
      - {mpn: A, precision: integer, aggregation: sum}
`

func TestCatalogDefaults(t *testing.T) {
	c, err := ParseCatalog([]byte(minimalCatalog))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Product("PRD-1")
	it, _ := p.Item("A")
	checks := []struct {
		name       string
		have, want any
	}{
		{"time zone", p.TimeZone, "UTC"},
		{"location", p.Location, time.UTC},
		{"max event age", p.MaxEventAge, DefaultMaxEventAge},
		{"asset search", p.AssetSearch, DefaultAssetSearch},
		{"item type", it.Type, ItemTypePPU},
		{"item search", it.ItemSearch, DefaultItemSearch},
		{"search value", it.SearchValue, "A"},
		{"allowed lateness", p.AllowedLateness, time.Duration(0)},
	}
	for _, c := range checks {
		if c.have != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.have, c.want)
		}
	}
	if _, ok := p.Item("B"); ok {
		t.Error("Item(B) found")
	}
	if _, ok := c.Product("PRD-2"); ok {
		t.Error("Product(PRD-2) found")
	}
}

func TestCatalogJSON(t *testing.T) {
	js := `{"products":[{"id":"PRD-1","schema":"CR","currency":"EUR","contracts":["CRD-1"],
	  "time_zone":"Europe/Madrid","period":{"kind":"monthly_cutoff","cutoff_day":5},"allowed_lateness":"1h",
	  "items":[{"mpn":"A","precision":"decimal(8)","aggregation":"unique_count","unique_attribute":"user"}]}]}`
	c, err := ParseCatalog([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Products[0]
	if p.Period.CutoffDay != 5 || p.AllowedLateness != time.Hour || p.Items[0].Precision != PrecisionDecimal8 {
		t.Fatalf("parsed %+v", p)
	}
}

func TestCatalogReportsEveryProblem(t *testing.T) {
	bad := `
products:
  - id: PRD-1
    schema: XX
    currency: usd
    contracts: [CRD-1, CRD-1, nope]
    marketplaces: [MP-1, X]
    time_zone: Mars/Olympus
    period: {kind: monthly_cutoff, cutoff_day: 30}
    allowed_lateness: soon
    max_event_age: 1h
    asset_search: customer
    colour: blue
    items:
      - {mpn: A, precision: decimal(3), aggregation: sum}
      - {mpn: A, precision: integer, aggregation: unique_count, type: rental, item_search: item.id}
      - {precision: integer, aggregation: sum, unique_attribute: u}
      - {mpn: C, aggregation: avg}
  - id: PRD-1
    schema: QT
    currency: USD
    contracts: []
    period: {kind: fixed, every: 500ms}
    allowed_lateness: 2h
    max_event_age: 1h
    items: []
  - id: X-2
    schema: QT
    currency: USD
    contracts: [CRD-2]
    period: {kind: hourly, cutoff_day: 3}
    items: [{mpn: A, precision: integer, aggregation: sum}]
`
	_, err := ParseCatalog([]byte(bad))
	var ce *CatalogError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CatalogError", err)
	}
	want := []string{
		"field colour not found",
		"products[0].schema:",
		"products[0].currency:",
		"products[0].contracts[1]: \"CRD-1\" is listed twice",
		"products[0].contracts[2]:",
		"products[0].marketplaces[1]:",
		"products[0].time_zone:",
		"products[0].period.cutoff_day: 30",
		"products[0].allowed_lateness: \"soon\"",
		"products[0].asset_search:",
		"products[0].items[0].precision:",
		"products[0].items[1].mpn: \"A\" duplicates items[0]",
		"products[0].items[1].type:",
		"products[0].items[1].item_search:",
		"products[0].items[1].unique_attribute: required",
		"products[0].items[2].mpn: required",
		"products[0].items[2].unique_attribute: only used",
		"products[0].items[3].precision: required",
		"products[0].items[3].aggregation:",
		"products[1].id: \"PRD-1\" duplicates products[0]",
		"products[1].contracts: at least one",
		"products[1].period.every:",
		"products[1].allowed_lateness: 2h0m0s must be less than",
		"products[1].items: at least one",
		"products[2].id:",
		"products[2].period.cutoff_day: not used",
	}
	for _, w := range want {
		if !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem containing %q", w)
		}
	}
	if len(ce.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(ce.Problems), len(want), strings.Join(ce.Problems, "\n"))
	}
}

func TestCatalogSyntaxAndEmpty(t *testing.T) {
	for _, in := range []string{"", "products: [", "products: []", "- 1"} {
		if _, err := ParseCatalog([]byte(in)); err == nil {
			t.Errorf("ParseCatalog(%q) succeeded", in)
		}
	}
	if _, err := LoadCatalog("testdata/does-not-exist.yaml"); err == nil {
		t.Error("LoadCatalog of a missing file succeeded")
	}
}

func TestNewCatalogFromStructs(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	in := []Product{{
		ID: "PRD-9", Schema: SchemaQT, Currency: "EUR", Contracts: []string{"CRD-9", "CRD-10"},
		Location: madrid, Period: PeriodSpec{Kind: PeriodDaily},
		Items: []Item{{MPN: "M", Precision: PrecisionDecimal2, Aggregation: AggregationSum}},
	}}
	c, err := NewCatalog(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Items[0].MPN = "changed"
	p, _ := c.Product("PRD-9")
	if _, ok := p.Item("M"); !ok || p.TimeZone != "Europe/Madrid" || p.Period.Location != madrid {
		t.Fatalf("catalog product %+v", p)
	}
	contract := func(named string) (string, bool) {
		return p.ContractFor(&Event{Data: Usage{Contract: named}})
	}
	if c, ok := contract(""); c != "CRD-9" || !ok {
		t.Errorf("default contract = %q %v", c, ok)
	}
	if c, ok := contract("CRD-10"); c != "CRD-10" || !ok {
		t.Errorf("named contract = %q %v", c, ok)
	}
	if _, ok := contract("CRD-11"); ok {
		t.Error("unknown contract accepted")
	}
	if _, err := NewCatalog(nil); err == nil {
		t.Error("NewCatalog(nil) succeeded")
	}
}

func TestPrecisionText(t *testing.T) {
	for _, p := range []Precision{PrecisionInteger, PrecisionDecimal1, PrecisionDecimal2, PrecisionDecimal4, PrecisionDecimal8} {
		b, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Precision
		if err := back.UnmarshalText(b); err != nil || back != p {
			t.Errorf("%s round trip = %v, %v", b, back, err)
		}
	}
	for _, s := range []string{"decimal(3)", "decimal(0)", "decimal(04)", "Integer", "decimal(2) ", "4", ""} {
		if _, err := ParsePrecision(s); err == nil {
			t.Errorf("ParsePrecision(%q) succeeded", s)
		}
	}
	if _, err := Precision(3).MarshalText(); err == nil {
		t.Error("MarshalText(3) succeeded")
	}
}

func TestAdjustmentMode(t *testing.T) {
	want := map[Aggregation]ValueMode{
		AggregationSum: ModeDelta, AggregationCount: ModeDelta, AggregationUniqueCount: ModeDelta,
		AggregationMax: ModeReplace, AggregationMin: ModeReplace, AggregationLast: ModeReplace,
	}
	for a, m := range want {
		if a.AdjustmentMode() != m {
			t.Errorf("%s: %s, want %s", a, a.AdjustmentMode(), m)
		}
	}
}
