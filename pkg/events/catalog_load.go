package events

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// CatalogError lists every problem found in a catalog, each prefixed with
// its path ("products[1].items[0].precision: …") or, for YAML type errors,
// its line.
type CatalogError struct{ Problems []string }

func (e *CatalogError) Error() string {
	return fmt.Sprintf("events: invalid catalog (%d problems):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// LoadCatalog reads and parses the catalog file at path.
func LoadCatalog(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("events: load catalog: %w", err)
	}
	c, err := ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseCatalog parses a YAML (or JSON) catalog and validates all of it; on
// failure the error is a *CatalogError listing every problem. Unknown keys
// are problems too.
func ParseCatalog(data []byte) (*Catalog, error) {
	var f catalogFile
	var problems []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, e := range te.Errors {
				problems = append(problems, yamlProblem(e))
			}
		case errors.Is(err, io.EOF):
			return nil, &CatalogError{Problems: []string{"catalog is empty"}}
		default:
			return nil, &CatalogError{Problems: []string{err.Error()}}
		}
	}
	products := make([]Product, len(f.Products))
	for i := range f.Products {
		products[i] = f.Products[i].product(fmt.Sprintf("products[%d]", i), &problems)
	}
	rules, paths := otlpRules(f.OTLP, f.Products, &problems)
	c, problems := newCatalog(products, problems)
	if c != nil {
		problems = append(problems, c.checkOTLP(rules, paths)...)
		c.otlp = rules
	}
	if len(problems) > 0 {
		return nil, &CatalogError{Problems: problems}
	}
	return c, nil
}

// NewCatalog validates products as ParseCatalog does, fills defaults and
// indexes them. The catalog keeps its own copy of the slices. It has no
// OTLP rules (ParseCatalog reads them).
func NewCatalog(products []Product) (*Catalog, error) {
	c, problems := newCatalog(products, nil)
	if len(problems) > 0 {
		return nil, &CatalogError{Problems: problems}
	}
	return c, nil
}

// NewCatalogWithRules is NewCatalog with OTLP rules, checked as ParseCatalog checks them (problems name
// them otlp[i]).
func NewCatalogWithRules(products []Product, rules []OTLPRule) (*Catalog, error) {
	c, problems := newCatalog(products, nil)
	rules = slices.Clone(rules)
	paths := make([]string, len(rules))
	for i := range rules {
		paths[i] = fmt.Sprintf("otlp[%d]", i)
	}
	if c != nil {
		problems = append(problems, c.checkOTLP(rules, paths)...)
		c.otlp = rules
	}
	if len(problems) > 0 {
		return nil, &CatalogError{Problems: problems}
	}
	return c, nil
}

// newCatalog returns the catalog of products and every problem found (its own and those given).
func newCatalog(products []Product, problems []string) (*Catalog, []string) {
	c := &Catalog{Products: make([]Product, len(products)), byID: make(map[string]int, len(products))}
	if len(products) == 0 {
		problems = append(problems, "products: at least one product is required")
	}
	for i := range products {
		path := fmt.Sprintf("products[%d]", i)
		p := products[i]
		p.Items = append([]Item(nil), p.Items...)
		p.Contracts = append([]string(nil), p.Contracts...)
		p.Marketplaces = append([]string(nil), p.Marketplaces...)
		problems = append(problems, p.check(path)...)
		if j, dup := c.byID[p.ID]; dup && p.ID != "" {
			problems = append(problems, fmt.Sprintf("%s.id: %q duplicates products[%d]", path, p.ID, j))
		} else {
			c.byID[p.ID] = i
		}
		c.Products[i] = p
	}
	return c, problems
}

// yamlProblem drops yaml.v3's Go type names: "line 7: field colour not
// found in type events.productFile" → "line 7: field colour not found".
func yamlProblem(e string) string {
	if i := strings.Index(e, " in type events."); i >= 0 {
		return e[:i]
	}
	return e
}

// The file form, read from YAML (ParseCatalog) and written as JSON (Catalog.MarshalFile). Durations are Go
// duration strings ("10m", "840h").
// The OTLP rules (ingest's alone) are not written by MarshalFile.
type catalogFile struct {
	Products []productFile  `yaml:"products" json:"products"`
	OTLP     []otlpRuleFile `yaml:"otlp" json:"-"`
}

type productFile struct {
	ID              string         `yaml:"id" json:"id"`
	Name            string         `yaml:"name" json:"name"`
	Schema          string         `yaml:"schema" json:"schema"`
	Currency        string         `yaml:"currency" json:"currency"`
	Contracts       []string       `yaml:"contracts" json:"contracts"`
	Marketplaces    []string       `yaml:"marketplaces" json:"marketplaces,omitempty"`
	TimeZone        string         `yaml:"time_zone" json:"time_zone,omitempty"`
	Period          periodFile     `yaml:"period" json:"period"`
	AllowedLateness string         `yaml:"allowed_lateness" json:"allowed_lateness,omitempty"`
	MaxEventAge     string         `yaml:"max_event_age" json:"max_event_age,omitempty"`
	AssetSearch     string         `yaml:"asset_search" json:"asset_search,omitempty"`
	Items           []itemFile     `yaml:"items" json:"items"`
	OTLP            []otlpRuleFile `yaml:"otlp" json:"-"`
}

type periodFile struct {
	Kind          string `yaml:"kind" json:"kind"`
	CutoffDay     int    `yaml:"cutoff_day" json:"cutoff_day,omitempty"`
	DaysBeforeEnd int    `yaml:"days_before_end" json:"days_before_end,omitempty"`
	Every         string `yaml:"every" json:"every,omitempty"`
}

type itemFile struct {
	MPN             string `yaml:"mpn" json:"mpn"`
	Name            string `yaml:"name" json:"name"`
	Unit            string `yaml:"unit" json:"unit"`
	Type            string `yaml:"type" json:"type,omitempty"`
	Precision       string `yaml:"precision" json:"precision"`
	Aggregation     string `yaml:"aggregation" json:"aggregation"`
	UniqueAttribute string `yaml:"unique_attribute" json:"unique_attribute,omitempty"`
	AllowNegative   bool   `yaml:"allow_negative" json:"allow_negative,omitempty"`
	ItemSearch      string `yaml:"item_search" json:"item_search,omitempty"`
	SearchValue     string `yaml:"search_value" json:"search_value,omitempty"`
}

// product converts the text fields; semantic checks are Product.check's.
func (f *productFile) product(path string, problems *[]string) Product {
	p := Product{
		ID: f.ID, Name: f.Name, Schema: Schema(f.Schema), Currency: f.Currency,
		Contracts: f.Contracts, Marketplaces: f.Marketplaces, TimeZone: f.TimeZone,
		AssetSearch: f.AssetSearch,
		Period:      PeriodSpec{Kind: PeriodKind(f.Period.Kind), CutoffDay: f.Period.CutoffDay, DaysBeforeEnd: f.Period.DaysBeforeEnd},
	}
	p.Period.Every = parseDuration(f.Period.Every, path+".period.every", problems)
	p.AllowedLateness = parseDuration(f.AllowedLateness, path+".allowed_lateness", problems)
	p.MaxEventAge = parseDuration(f.MaxEventAge, path+".max_event_age", problems)
	p.Items = make([]Item, len(f.Items))
	for j, it := range f.Items {
		p.Items[j] = it.item(fmt.Sprintf("%s.items[%d]", path, j), problems)
	}
	return p
}

func (f *itemFile) item(path string, problems *[]string) Item {
	it := Item{
		MPN: f.MPN, Name: f.Name, Unit: f.Unit, Type: ItemType(f.Type),
		Aggregation: Aggregation(f.Aggregation), UniqueAttribute: f.UniqueAttribute,
		AllowNegative: f.AllowNegative, ItemSearch: f.ItemSearch, SearchValue: f.SearchValue,
	}
	if f.Precision == "" {
		*problems = append(*problems, path+".precision: required (integer, decimal(1), decimal(2), decimal(4) or decimal(8))")
		return it
	}
	p, err := ParsePrecision(f.Precision)
	if err != nil {
		*problems = append(*problems, path+".precision: "+err.Error())
	}
	it.Precision = p
	return it
}

func parseDuration(s, path string, problems *[]string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s: %q is not a duration such as 10m or 840h", path, s))
		return 0
	}
	if d < 0 {
		*problems = append(*problems, fmt.Sprintf("%s: must not be negative", path))
		return 0
	}
	return d
}
