package devstack

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

//go:embed sample/catalog.yaml
var samplePipeline []byte

//go:embed sample/connect.yaml
var sampleConnect []byte

// Catalogs is the world a dev stack runs in: the pipeline's catalog (periods, items, aggregation) and the same
// products as the emulated Connect knows them (contracts, items, assets). [Catalogs.Check] proves they agree.
type Catalogs struct {
	Pipeline *events.Catalog
	Connect  *connectemu.Catalog
}

// SampleCatalogs returns the built-in demo world (sample/catalog.yaml and sample/connect.yaml): three
// products (QT, TR, CR) with one-minute fixed periods and 10 s of allowed lateness, and six subscriptions.
func SampleCatalogs() (Catalogs, error) {
	p, err := events.ParseCatalog(samplePipeline)
	if err != nil {
		return Catalogs{}, fmt.Errorf("devstack: sample pipeline catalog: %w", err)
	}
	c, err := connectemu.ParseCatalog(sampleConnect)
	if err != nil {
		return Catalogs{}, fmt.Errorf("devstack: sample Connect catalog: %w", err)
	}
	return Catalogs{Pipeline: p, Connect: c}, nil
}

// WithFixedPeriods returns a copy whose products all have fixed periods of every and the given allowed
// lateness (tests use seconds to see periods close quickly).
func (c Catalogs) WithFixedPeriods(every, lateness time.Duration) (Catalogs, error) {
	products := slices.Clone(c.Pipeline.Products)
	for i := range products {
		products[i].Period = events.PeriodSpec{Kind: events.PeriodFixed, Every: every}
		products[i].AllowedLateness = lateness
	}
	p, err := events.NewCatalogWithRules(products, c.Pipeline.OTLPRules())
	if err != nil {
		return Catalogs{}, fmt.Errorf("devstack: fixed periods: %w", err)
	}
	return Catalogs{Pipeline: p, Connect: c.Connect}, nil
}

// Subscriptions returns the event subjects of a product's assets: the asset id, or the value of the parameter
// the product's asset_search names. They are what the simulator reports for.
func (c Catalogs) Subscriptions(product string) []string {
	p, ok := c.Pipeline.Product(product)
	if !ok {
		return nil
	}
	var subs []string
	for _, a := range c.Connect.Assets {
		if a.Product != product {
			continue
		}
		if v := subjectOf(a, p.AssetSearch); v != "" {
			subs = append(subs, v)
		}
	}
	return subs
}

// subjectOf is the value an asset is found by under search (asset.id or parameter.<id>).
func subjectOf(a connectemu.CatalogAsset, search string) string {
	if param, ok := strings.CutPrefix(search, "parameter."); ok {
		return a.Params[param]
	}
	return a.ID
}

// Check reports every pipeline product, contract or item Connect does not know, every item whose search
// value finds nothing or whose precision differs, and every product without a subscription.
func (c Catalogs) Check() error {
	var errs []error
	for i := range c.Pipeline.Products {
		errs = append(errs, c.checkProduct(&c.Pipeline.Products[i]))
	}
	return errors.Join(errs...)
}

func (c Catalogs) checkProduct(p *events.Product) error {
	cp := findConnectProduct(c.Connect, p.ID)
	if cp == nil {
		return fmt.Errorf("product %s: unknown to Connect", p.ID)
	}
	var errs []error
	if string(p.Schema) != cp.Schema {
		errs = append(errs, fmt.Errorf("product %s: schema %s, Connect says %s", p.ID, p.Schema, cp.Schema))
	}
	for _, k := range p.Contracts {
		if !slices.ContainsFunc(c.Connect.Contracts, func(ck connectemu.CatalogContract) bool { return ck.ID == k }) {
			errs = append(errs, fmt.Errorf("product %s: contract %s unknown to Connect", p.ID, k))
		}
	}
	for i := range p.Items {
		errs = append(errs, checkItem(p.ID, &p.Items[i], cp))
	}
	if len(c.Subscriptions(p.ID)) == 0 {
		errs = append(errs, fmt.Errorf("product %s: no asset found by %s", p.ID, p.AssetSearch))
	}
	return errors.Join(errs...)
}

func findConnectProduct(c *connectemu.Catalog, id string) *connectemu.CatalogProduct {
	i := slices.IndexFunc(c.Products, func(p connectemu.CatalogProduct) bool { return p.ID == id })
	if i < 0 {
		return nil
	}
	return &c.Products[i]
}

// checkItem finds it in Connect's product the way a usage file row does (item_search, search value).
func checkItem(product string, it *events.Item, cp *connectemu.CatalogProduct) error {
	value := it.SearchValueOf()
	for _, ci := range cp.Items {
		if connectItemKey(ci, it.ItemSearch) != value {
			continue
		}
		if want, _ := events.ParsePrecision(ci.Precision); want != it.Precision {
			return fmt.Errorf("product %s item %s: precision differs from Connect's %s", product, it.MPN, ci.Precision)
		}
		return nil
	}
	return fmt.Errorf("product %s item %s: Connect has no item with %s %q", product, it.MPN, it.ItemSearch, value)
}

func connectItemKey(ci connectemu.CatalogItem, search string) string {
	switch search {
	case "item.local_id":
		return ci.LocalID
	case "item.global_id":
		return ci.ID
	default:
		return ci.MPN
	}
}
