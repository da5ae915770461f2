package events

import (
	"time"
	_ "time/tzdata" // products name IANA zones; binaries may run on images without zoneinfo
)

// Schema is a Connect usage schema.
type Schema string

// Usage schemas.
const (
	SchemaQT Schema = "QT" // quantity
	SchemaTR Schema = "TR" // tiered: records carry a tier
	SchemaCR Schema = "CR" // cost reporting: events carry an amount
	SchemaPR Schema = "PR" // price reporting: events carry an amount
)

// RequiresAmount reports whether events of the schema must carry an amount.
func (s Schema) RequiresAmount() bool { return s == SchemaCR || s == SchemaPR }

// ItemType is a Connect item type.
type ItemType string

// Item types.
const (
	ItemTypePPU         ItemType = "ppu"
	ItemTypeReservation ItemType = "reservation"
)

// Aggregation says how a period's events fold into one quantity.
type Aggregation string

// Aggregations.
const (
	AggregationSum         Aggregation = "sum"
	AggregationCount       Aggregation = "count"        // number of events; quantity values are ignored
	AggregationMax         Aggregation = "max"          // greatest quantity
	AggregationMin         Aggregation = "min"          // least quantity
	AggregationLast        Aggregation = "last"         // quantity of the latest event (time, then source, then id)
	AggregationUniqueCount Aggregation = "unique_count" // distinct values of Item.UniqueAttribute
)

// AdjustmentMode is the ValueMode of this aggregation's adjustment records:
// delta for additive aggregations, replace for the others.
func (a Aggregation) AdjustmentMode() ValueMode {
	switch a {
	case AggregationMax, AggregationMin, AggregationLast:
		return ModeReplace
	}
	return ModeDelta
}

// Catalog is the set of products usagepipe meters. Build it with
// ParseCatalog, LoadCatalog or NewCatalog; it is read-only afterwards.
type Catalog struct {
	Products []Product

	byID map[string]int
	otlp []OTLPRule // OTLPRules
}

// Product is a Connect product with its usage settings.
type Product struct {
	ID, Name        string
	Schema          Schema
	Currency        string   // ISO 4217
	Contracts       []string // distribution contract ids CRD-…; the first is the default
	Marketplaces    []string // MP-…; empty means any
	TimeZone        string   // IANA name; periods are computed in it
	Location        *time.Location
	Period          PeriodSpec
	AllowedLateness time.Duration // a period closes at its end + this
	MaxEventAge     time.Duration // older events are too_old; default 35 days
	AssetSearch     string        // "asset.id" (default) or "parameter.<param_id>"
	Items           []Item

	byMPN map[string]int
}

// Item is a product item (a meter).
type Item struct {
	MPN, Name, Unit string
	Type            ItemType
	Precision       Precision
	Aggregation     Aggregation
	UniqueAttribute string // the attribute counted by unique_count
	AllowNegative   bool   // negative quantities (and amounts) are corrections
	ItemSearch      string // "item.mpn" (default), "item.local_id", "item.global_id"
	SearchValue     string // defaults to MPN
}

// Defaults.
const (
	DefaultMaxEventAge = 35 * 24 * time.Hour
	DefaultAssetSearch = "asset.id"
	DefaultItemSearch  = "item.mpn"
	// FutureSkew is how far ahead of now an event time may be.
	FutureSkew = 5 * time.Minute
)

// Product returns the product with the given id.
func (c *Catalog) Product(id string) (*Product, bool) {
	if c == nil {
		return nil, false
	}
	if c.byID != nil {
		i, ok := c.byID[id]
		if !ok {
			return nil, false
		}
		return &c.Products[i], true
	}
	for i := range c.Products {
		if c.Products[i].ID == id {
			return &c.Products[i], true
		}
	}
	return nil, false
}

// Item returns the item with the given MPN.
func (p *Product) Item(mpn string) (*Item, bool) {
	if p.byMPN != nil {
		i, ok := p.byMPN[mpn]
		if !ok {
			return nil, false
		}
		return &p.Items[i], true
	}
	for i := range p.Items {
		if p.Items[i].MPN == mpn {
			return &p.Items[i], true
		}
	}
	return nil, false
}

// ContractFor returns the distribution contract an event is reported under:
// the one it names, if the product has it, or else the product's default.
func (p *Product) ContractFor(e *Event) (string, bool) {
	if c := e.Data.Contract; c != "" {
		return c, contains(p.Contracts, c)
	}
	if len(p.Contracts) == 0 {
		return "", false
	}
	return p.Contracts[0], true
}

// PeriodOf returns the product's period containing t.
func (p *Product) PeriodOf(t time.Time) Period { return p.Period.Containing(t) }

// CloseAt is the instant at which period pd closes: its end plus the allowed lateness.
func (p *Product) CloseAt(pd Period) time.Time { return pd.End.Add(p.AllowedLateness) }

// SearchValueOf returns the item's search value (its MPN when unset).
func (it *Item) SearchValueOf() string {
	if it.SearchValue != "" {
		return it.SearchValue
	}
	return it.MPN
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
