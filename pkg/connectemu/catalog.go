package connectemu

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/usagepipe/usagepipe/pkg/events"
	"gopkg.in/yaml.v3"
)

// Catalog is what the emulated Connect knows about the world: the vendor, marketplaces with their hubs,
// distribution contracts, products with their usage schema and items, and assets with their parameters.
// Usage files are created against a product and a contract of the catalog, and every uploaded record is
// validated against it. A catalog is read from YAML or JSON (LoadCatalog); field names are snake_case.
type Catalog struct {
	Vendor       CatalogAccount       `yaml:"vendor" json:"vendor"`
	Marketplaces []CatalogMarketplace `yaml:"marketplaces" json:"marketplaces"`
	Contracts    []CatalogContract    `yaml:"contracts" json:"contracts"`
	Products     []CatalogProduct     `yaml:"products" json:"products"`
	Assets       []CatalogAsset       `yaml:"assets" json:"assets"`
}

// CatalogAccount is a vendor or provider account (VA-NNN-NNN, PA-NNN-NNN).
type CatalogAccount struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name,omitempty"`
}

// CatalogMarketplace is a marketplace (MP-NNNNN) with its default currency and the hubs that bill it.
type CatalogMarketplace struct {
	ID       string       `yaml:"id" json:"id"`
	Name     string       `yaml:"name" json:"name,omitempty"`
	Currency string       `yaml:"currency" json:"currency,omitempty"`
	Hubs     []CatalogHub `yaml:"hubs" json:"hubs,omitempty"`
}

// CatalogHub is a hub (HB-NNNN-NNNN); accepted files are split into one chunk per hub.
type CatalogHub struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name,omitempty"`
}

// CatalogContract is a distribution contract (CRD-…): it fixes the marketplace, the provider and the
// environment of the usage files created under it.
type CatalogContract struct {
	ID          string         `yaml:"id" json:"id"`
	Name        string         `yaml:"name" json:"name,omitempty"`
	Marketplace string         `yaml:"marketplace" json:"marketplace"`
	Provider    CatalogAccount `yaml:"provider" json:"provider"`
	Environment string         `yaml:"environment" json:"environment,omitempty"` // production unless set
}

// CatalogProduct is a product (PRD-NNN-NNN-NNN) with its usage schema (QT, TR, CR or PR) and items.
type CatalogProduct struct {
	ID     string        `yaml:"id" json:"id"`
	Name   string        `yaml:"name" json:"name,omitempty"`
	Icon   string        `yaml:"icon" json:"icon,omitempty"`
	Schema string        `yaml:"schema" json:"schema"`
	Items  []CatalogItem `yaml:"items" json:"items"`
}

// CatalogItem is a product item. Records find it by item.mpn, item.local_id or item.global_id (its id).
// Precision is one of integer, decimal(1), decimal(2), decimal(4), decimal(8); Type is PPU or Reservation.
type CatalogItem struct {
	ID        string `yaml:"id" json:"id"`
	LocalID   string `yaml:"local_id" json:"local_id,omitempty"`
	MPN       string `yaml:"mpn" json:"mpn,omitempty"`
	Name      string `yaml:"name" json:"name"`
	Unit      string `yaml:"unit" json:"unit,omitempty"`
	Precision string `yaml:"precision" json:"precision"`
	Type      string `yaml:"type" json:"type,omitempty"`
}

// CatalogAsset is a subscription (AS-NNNN-NNNN-NNNN) of a product. Records find it by asset.id or by
// parameter.<id> (one of Params). Marketplace and Hub are optional: when set, the asset only takes records
// of files in that marketplace, and its records go to that hub's chunk.
type CatalogAsset struct {
	ID          string            `yaml:"id" json:"id"`
	Product     string            `yaml:"product" json:"product"`
	Marketplace string            `yaml:"marketplace" json:"marketplace,omitempty"`
	Hub         string            `yaml:"hub" json:"hub,omitempty"`
	ExternalID  string            `yaml:"external_id" json:"external_id,omitempty"`
	ExternalUID string            `yaml:"external_uid" json:"external_uid,omitempty"`
	ReconID     string            `yaml:"recon_id" json:"recon_id,omitempty"`
	Params      map[string]string `yaml:"params" json:"params,omitempty"`
}

// ErrCatalog is wrapped by every error about an inconsistent or unreadable catalog.
var ErrCatalog = errors.New("connectemu: bad catalog")

// LoadCatalog reads a catalog from a YAML or JSON file.
func LoadCatalog(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	c, err := ParseCatalog(b)
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", path, err)
	}
	return c, nil
}

// ParseCatalog decodes a YAML or JSON catalog (JSON is YAML) and checks it; unknown fields are errors.
func ParseCatalog(b []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCatalog, err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// precisionScale is the number of decimals an item precision allows (0 for an unknown one, which check
// rejects).
func precisionScale(name string) int {
	p, _ := events.ParsePrecision(name)
	return int(p)
}

// check reports the first reference to something the catalog does not define, or a bad enum value.
func (c *Catalog) check() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrCatalog}, args...)...))
	}
	marketplaces := map[string]bool{}
	for _, m := range c.Marketplaces {
		marketplaces[m.ID] = true
	}
	for _, k := range c.Contracts {
		if !marketplaces[k.Marketplace] {
			fail("contract %s: unknown marketplace %q", k.ID, k.Marketplace)
		}
	}
	products := map[string]bool{}
	for _, p := range c.Products {
		products[p.ID] = true
		if _, ok := schemaOf(p.Schema); !ok {
			fail("product %s: schema %q is not QT, TR, CR or PR", p.ID, p.Schema)
		}
		for _, it := range p.Items {
			if _, err := events.ParsePrecision(it.Precision); err != nil {
				fail("item %s: precision %q", it.ID, it.Precision)
			}
		}
	}
	for _, a := range c.Assets {
		if !products[a.Product] {
			fail("asset %s: unknown product %q", a.ID, a.Product)
		}
	}
	return errors.Join(errs...)
}

// merge adds other's entries to c; an entry with an id c already has replaces it.
func (c *Catalog) merge(other *Catalog) {
	if other == nil {
		return
	}
	if other.Vendor.ID != "" {
		c.Vendor = other.Vendor
	}
	c.Marketplaces = mergeByID(c.Marketplaces, other.Marketplaces, func(m CatalogMarketplace) string { return m.ID })
	c.Contracts = mergeByID(c.Contracts, other.Contracts, func(k CatalogContract) string { return k.ID })
	c.Products = mergeByID(c.Products, other.Products, func(p CatalogProduct) string { return p.ID })
	c.Assets = mergeByID(c.Assets, other.Assets, func(a CatalogAsset) string { return a.ID })
}

// mergeByID replaces the first entry of have with x's id by x, or appends x, for each x of add in order.
func mergeByID[T any](have, add []T, id func(T) string) []T {
	if len(add) == 0 {
		return have
	}
	at := make(map[string]int, len(have)+len(add))
	for i := len(have) - 1; i >= 0; i-- {
		at[id(have[i])] = i
	}
	for _, x := range add {
		if i, ok := at[id(x)]; ok {
			have[i] = x
			continue
		}
		at[id(x)] = len(have)
		have = append(have, x)
	}
	return have
}

func (c *Catalog) product(id string) (*CatalogProduct, bool) { return find(c.Products, id, productID) }

func (c *Catalog) contract(id string) (*CatalogContract, bool) {
	return find(c.Contracts, id, contractID)
}

func (c *Catalog) marketplace(id string) (*CatalogMarketplace, bool) {
	return find(c.Marketplaces, id, func(m *CatalogMarketplace) string { return m.ID })
}

func productID(p *CatalogProduct) string   { return p.ID }
func contractID(k *CatalogContract) string { return k.ID }

func find[T any](xs []T, id string, key func(*T) string) (*T, bool) {
	for i := range xs {
		if key(&xs[i]) == id {
			return &xs[i], true
		}
	}
	return nil, false
}

// asset finds an asset of product by asset_search_criteria (asset.id or parameter.<id>) and value. It
// indexes the whole catalog: processing looks assets up through the store's index instead.
func (c *Catalog) asset(product, criteria, value string) (*CatalogAsset, error) {
	return newCatalogIndex(c).asset(product, criteria, value)
}

// Merged returns a new catalog: c with other's entries merged in (an entry with an id c has replaces it).
func (c *Catalog) Merged(other *Catalog) *Catalog {
	out := &Catalog{}
	out.merge(c)
	out.merge(other)
	return out
}
