package aggregator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// The catalog as the fold configuration records it: the catalog file form (the keys events.ParseCatalog reads,
// durations as Go duration strings) with every default filled, encoded as JSON, so that the same catalog gives
// the same bytes whatever file it was loaded from, and events.ParseCatalog reads it back to the same catalog.

type catalogDoc struct {
	Products []productDoc `json:"products"`
}

type productDoc struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Schema          string    `json:"schema"`
	Currency        string    `json:"currency"`
	Contracts       []string  `json:"contracts"`
	Marketplaces    []string  `json:"marketplaces,omitempty"`
	TimeZone        string    `json:"time_zone,omitempty"`
	Period          periodDoc `json:"period"`
	AllowedLateness string    `json:"allowed_lateness,omitempty"`
	MaxEventAge     string    `json:"max_event_age,omitempty"`
	AssetSearch     string    `json:"asset_search,omitempty"`
	Items           []itemDoc `json:"items"`
}

type periodDoc struct {
	Kind          string `json:"kind"`
	CutoffDay     int    `json:"cutoff_day,omitempty"`
	DaysBeforeEnd int    `json:"days_before_end,omitempty"`
	Every         string `json:"every,omitempty"`
}

type itemDoc struct {
	MPN             string `json:"mpn"`
	Name            string `json:"name"`
	Unit            string `json:"unit"`
	Type            string `json:"type,omitempty"`
	Precision       string `json:"precision"`
	Aggregation     string `json:"aggregation"`
	UniqueAttribute string `json:"unique_attribute,omitempty"`
	AllowNegative   bool   `json:"allow_negative,omitempty"`
	ItemSearch      string `json:"item_search,omitempty"`
	SearchValue     string `json:"search_value,omitempty"`
}

// encodeCatalog returns c in its recorded form.
func encodeCatalog(c *events.Catalog) (json.RawMessage, error) {
	doc := catalogDoc{Products: make([]productDoc, len(c.Products))}
	for i := range c.Products {
		doc.Products[i] = productDocOf(&c.Products[i])
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	return b, nil
}

func productDocOf(p *events.Product) productDoc {
	d := productDoc{
		ID: p.ID, Name: p.Name, Schema: string(p.Schema), Currency: p.Currency, Contracts: p.Contracts,
		Marketplaces: p.Marketplaces, TimeZone: p.TimeZone, AssetSearch: p.AssetSearch,
		Period: periodDoc{Kind: string(p.Period.Kind), CutoffDay: p.Period.CutoffDay, DaysBeforeEnd: p.Period.DaysBeforeEnd,
			Every: durationText(p.Period.Every)},
		AllowedLateness: durationText(p.AllowedLateness), MaxEventAge: durationText(p.MaxEventAge),
		Items: make([]itemDoc, len(p.Items)),
	}
	for j := range p.Items {
		it := &p.Items[j]
		d.Items[j] = itemDoc{
			MPN: it.MPN, Name: it.Name, Unit: it.Unit, Type: string(it.Type), Precision: it.Precision.String(),
			Aggregation: string(it.Aggregation), UniqueAttribute: it.UniqueAttribute, AllowNegative: it.AllowNegative,
			ItemSearch: it.ItemSearch, SearchValue: it.SearchValue,
		}
	}
	return d
}

// durationText is d as the catalog file writes it; empty for zero.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
