package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// itemTemplate is one meter of a product template.
type itemTemplate struct {
	mpn       string
	agg       events.Aggregation
	precision string // catalog precision: integer, decimal(2), decimal(4)
	unique    string // the attribute a unique_count item counts
}

// productTemplate is the shape of a run's product: schema, short fixed periods so that a run sees many of
// them close, and two items with different aggregations. Only fixed periods close within a run (a calendar
// period lasts an hour at least); a fixed period is aligned to the Unix epoch whatever the zone, which only
// names it (file names are in the product's zone).
type productTemplate struct {
	name     string
	schema   events.Schema
	currency string
	zone     string // IANA time zone; "" is UTC
	every    time.Duration
	lateness time.Duration
	items    []itemTemplate
}

// templates cycle over the run's products. Their period lengths divide defaultAlign, so the periods of a run
// start at the same offsets from the run's start whatever the wall clock.
var templates = []productTemplate{{
	name: "Chaos Compute", schema: events.SchemaQT, currency: "USD", every: 4 * time.Second, lateness: time.Second,
	items: []itemTemplate{
		{mpn: "CPU-SECONDS", agg: events.AggregationSum, precision: "decimal(4)"},
		{mpn: "API-CALLS", agg: events.AggregationCount, precision: "integer"},
	},
}, {
	name: "Chaos Streams", schema: events.SchemaTR, currency: "EUR", zone: "Asia/Kolkata", every: 6 * time.Second,
	lateness: 2 * time.Second,
	items: []itemTemplate{
		{mpn: "PEAK-STREAMS", agg: events.AggregationMax, precision: "decimal(2)"},
		{mpn: "GAUGE", agg: events.AggregationLast, precision: "integer"},
	},
}, {
	name: "Chaos Desktops", schema: events.SchemaCR, currency: "AUD", every: 12 * time.Second, lateness: 3 * time.Second,
	items: []itemTemplate{
		{mpn: "ACTIVE-USERS", agg: events.AggregationUniqueCount, precision: "integer", unique: "user_id"},
		{mpn: "MIN-SEATS", agg: events.AggregationMin, precision: "integer"},
	},
}}

// PeriodShape is a product's period length and allowed lateness (Config.Periods).
type PeriodShape struct{ Every, Lateness time.Duration }

func (s PeriodShape) String() string { return s.Every.String() + "+" + s.Lateness.String() }

// ParsePeriods reads period shapes written "<every>+<lateness>,…", e.g. "10s+2s,15s+0s".
func ParsePeriods(s string) ([]PeriodShape, error) {
	var out []PeriodShape
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		every, lateness, ok := strings.Cut(f, "+")
		e, err1 := time.ParseDuration(every)
		l, err2 := time.ParseDuration(lateness)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("period %q: want <every>+<lateness>, e.g. 10s+2s", f)
		}
		out = append(out, PeriodShape{Every: e, Lateness: l})
	}
	return out, nil
}

// checkPeriods reports what is wrong with shapes: periods of whole seconds, at most maxAlign, lateness ≥ 0
// and below the products' max event age, and periods whose common multiple (the run's alignment) is at most
// maxAlign.
func checkPeriods(shapes []PeriodShape) error {
	for _, s := range shapes {
		if s.Every < time.Second || s.Every%time.Second != 0 || s.Lateness < 0 || s.Lateness >= maxEventAge {
			return fmt.Errorf("period %v: want a whole number of seconds ≥ 1s and a lateness ≥ 0 below %v", s, maxEventAge)
		}
	}
	if a := alignOf(shapes); a > maxAlign {
		return fmt.Errorf("periods %v: their common multiple %v is over %v", shapes, a, maxAlign)
	}
	return nil
}

// maxAlign bounds the run's alignment, the common multiple of its period lengths.
const maxAlign = 10 * time.Minute

// defaultAlign is a common multiple of the templates' period lengths.
const defaultAlign = 12 * time.Second

// alignOf is the least common multiple of the shapes' period lengths (defaultAlign without shapes): the
// run's start is aligned to it, so that its periods start at the same offsets from the start whatever the
// wall clock.
func alignOf(shapes []PeriodShape) time.Duration {
	if len(shapes) == 0 {
		return defaultAlign
	}
	a := int64(1)
	for _, s := range shapes {
		e := int64(s.Every / time.Second)
		a = a / gcd(a, e) * e
		if time.Duration(a)*time.Second > maxAlign {
			return time.Duration(a) * time.Second
		}
	}
	return time.Duration(a) * time.Second
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// maxEventAge is every product's max_event_age: far beyond a run, so nothing is too old or too late.
const maxEventAge = 24 * time.Hour

// product is one product of a run.
type product struct {
	productTemplate
	index    int
	id       string
	contract string
}

// runProducts returns the run's n products, cycling through the templates; shapes, when given, replace the
// templates' periods and lateness, cycled the same way.
func runProducts(n int, shapes []PeriodShape) []product {
	ps := make([]product, n)
	for i := range ps {
		ps[i] = product{productTemplate: templates[i%len(templates)], index: i,
			id: fmt.Sprintf("PRD-900-000-%03d", i+1), contract: fmt.Sprintf("CRD-00000-00900-%05d", i+1)}
		if len(shapes) > 0 {
			s := shapes[i%len(shapes)]
			ps[i].every, ps[i].lateness = s.Every, s.Lateness
		}
	}
	return ps
}

// subscription is the Connect asset id of subscription s; s belongs to product s mod len(products).
func subscription(s, nProducts int) string {
	return fmt.Sprintf("AS-%04d-%04d-%04d", 9000+s%nProducts, s/10000, s%10000)
}

// itemID is the Connect item id of item j of product p.
func itemID(p product, j int) string { return fmt.Sprintf("%s-%04d", p.id, j+1) }

// Dead letters of a run (Config.DeadLetters): a product the pipeline's catalog lacks until the replay phase
// (its events are rejected and kept by ingest: unknown_product), and assets of product 0 Connect lacks until
// then (their records are refused: connect_invalid). The fix adds both; the replay gets them billed.
const (
	heldShare         = 0.005 // share of the workload's events for the held-back product
	heldSubscriptions = 3
	missingAssets     = 2 // subscriptions of product 0 (its first ones) Connect lacks at first
)

// heldProduct is the product held back from the pipeline's catalog: the shape of the run's first product
// (periods included, so it aligns with the run), its own ids and name.
func heldProduct(first product) product {
	h := product{productTemplate: first.productTemplate, index: 99, id: "PRD-900-000-099", contract: "CRD-00000-00900-00099"}
	h.name = "Chaos Held"
	return h
}

// heldSubscription is the asset id of subscription k of the held-back product.
func heldSubscription(k int) string { return fmt.Sprintf("AS-9099-0000-%04d", k) }

// missing are the assets Connect lacks at first: product 0's first subscriptions.
func missing(ps []product) []string {
	var out []string
	for k := range missingAssets {
		out = append(out, subscription(k*len(ps), len(ps)))
	}
	return out
}

// Catalog files of the run directory.
const (
	pipelineCatalogFile = "catalog.yaml"         // what the services run (without the held-back product at first)
	fixedCatalogFile    = "catalog-fixed.yaml"   // every product: the truth's, and the services' after the fix
	connectCatalogFile  = "connect-catalog.yaml" // the emulator's (without the missing assets at first)
)

// writeCatalogs writes the pipeline's catalogs and the emulator's into dir and returns the one the services
// start with and the full one (the same without dead letters).
func writeCatalogs(dir string, ps []product, held *product, subscriptions int) (start, full *events.Catalog, err error) {
	all := ps
	if held != nil {
		all = append(slices.Clone(ps), *held)
	}
	if start, err = writePipeline(filepath.Join(dir, pipelineCatalogFile), ps); err != nil {
		return nil, nil, err
	}
	if full, err = writePipeline(filepath.Join(dir, fixedCatalogFile), all); err != nil {
		return nil, nil, err
	}
	connect, err := yaml.Marshal(runConnectCatalog(ps, held, subscriptions))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, connectCatalogFile), connect, 0o644)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("chaos: connect catalog: %w", err)
	}
	return start, full, nil
}

// writePipeline writes the pipeline catalog of ps to path and returns it parsed.
func writePipeline(path string, ps []product) (*events.Catalog, error) {
	data, err := yaml.Marshal(pipelineCatalog(ps))
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("chaos: catalog: %w", err)
	}
	cat, err := events.ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("chaos: generated catalog: %w", err)
	}
	return cat, nil
}

// runConnectCatalog is Connect's world at the start of a run: every product, the held-back one included
// (Connect knows it; the pipeline does not yet), and every asset but the missing ones.
func runConnectCatalog(ps []product, held *product, subscriptions int) connectemu.Catalog {
	c := connectCatalog(ps, subscriptions)
	if held == nil {
		return c
	}
	h := connectCatalog([]product{*held}, 0)
	c.Contracts, c.Products = append(c.Contracts, h.Contracts...), append(c.Products, h.Products...)
	for k := range heldSubscriptions {
		c.Assets = append(c.Assets, connectemu.CatalogAsset{ID: heldSubscription(k), Product: held.id, ExternalID: "held-" + strconv.Itoa(k)})
	}
	gone := missing(ps)
	c.Assets = slices.DeleteFunc(c.Assets, func(a connectemu.CatalogAsset) bool { return slices.Contains(gone, a.ID) })
	return c
}

// missingCatalogAssets are the missing assets as Connect's catalog has them once they exist.
func missingCatalogAssets(ps []product, subscriptions int) []connectemu.CatalogAsset {
	gone := missing(ps)
	var out []connectemu.CatalogAsset
	for _, a := range connectCatalog(ps, subscriptions).Assets {
		if slices.Contains(gone, a.ID) {
			out = append(out, a)
		}
	}
	return out
}

// catalogFile is the YAML form of the pipeline catalog (docs/events.md).
type catalogFile struct {
	Products []catalogProduct `yaml:"products"`
}

type catalogProduct struct {
	ID              string            `yaml:"id"`
	Name            string            `yaml:"name"`
	Schema          string            `yaml:"schema"`
	Currency        string            `yaml:"currency"`
	TimeZone        string            `yaml:"time_zone,omitempty"`
	Contracts       []string          `yaml:"contracts"`
	Period          map[string]string `yaml:"period"`
	AllowedLateness string            `yaml:"allowed_lateness"`
	MaxEventAge     string            `yaml:"max_event_age"`
	Items           []catalogItem     `yaml:"items"`
}

type catalogItem struct {
	MPN             string `yaml:"mpn"`
	Name            string `yaml:"name"`
	Unit            string `yaml:"unit"`
	Precision       string `yaml:"precision"`
	Aggregation     string `yaml:"aggregation"`
	UniqueAttribute string `yaml:"unique_attribute,omitempty"`
}

func pipelineCatalog(ps []product) catalogFile {
	var f catalogFile
	for _, p := range ps {
		cp := catalogProduct{ID: p.id, Name: p.name, Schema: string(p.schema), Currency: p.currency, TimeZone: p.zone,
			Contracts: []string{p.contract}, Period: map[string]string{"kind": "fixed", "every": p.every.String()},
			AllowedLateness: p.lateness.String(), MaxEventAge: maxEventAge.String()}
		for _, it := range p.items {
			cp.Items = append(cp.Items, catalogItem{MPN: it.mpn, Name: it.mpn, Unit: "unit", Precision: it.precision,
				Aggregation: string(it.agg), UniqueAttribute: it.unique})
		}
		f.Products = append(f.Products, cp)
	}
	return f
}

// Connect-side identities of a run.
const (
	vendorID      = "VA-900-001"
	providerID    = "PA-900-001"
	marketplaceID = "MP-90001"
	hubID         = "HB-9000-0001"
)

func connectCatalog(ps []product, subscriptions int) connectemu.Catalog {
	c := connectemu.Catalog{
		Vendor: connectemu.CatalogAccount{ID: vendorID, Name: "Chaos Vendor"},
		Marketplaces: []connectemu.CatalogMarketplace{{ID: marketplaceID, Name: "Chaos Marketplace", Currency: "USD",
			Hubs: []connectemu.CatalogHub{{ID: hubID, Name: "Chaos Hub"}}}},
	}
	for _, p := range ps {
		c.Contracts = append(c.Contracts, connectemu.CatalogContract{ID: p.contract, Name: p.name + " contract",
			Marketplace: marketplaceID, Provider: connectemu.CatalogAccount{ID: providerID, Name: "Chaos Provider"}})
		cp := connectemu.CatalogProduct{ID: p.id, Name: p.name, Schema: string(p.schema)}
		for j, it := range p.items {
			cp.Items = append(cp.Items, connectemu.CatalogItem{ID: itemID(p, j), LocalID: strings.ToLower(it.mpn),
				MPN: it.mpn, Name: it.mpn, Unit: "unit", Precision: it.precision, Type: "PPU"})
		}
		c.Products = append(c.Products, cp)
	}
	for s := range subscriptions {
		p := ps[s%len(ps)]
		c.Assets = append(c.Assets, connectemu.CatalogAsset{ID: subscription(s, len(ps)), Product: p.id,
			ExternalID: strconv.Itoa(s + 1)})
	}
	return c
}
