package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalFile returns the catalog in its file form as compact JSON, with every default filled in: the same
// catalog gives the same bytes whatever file (and whichever defaults left implicit) it was loaded from, and
// ParseCatalog reads them back to an equal catalog. The aggregator records it as part of its fold
// configuration. The OTLP rules are left out: they are ingest's, and the fold does not depend on them (so
// changing them changes no fold configuration).
func (c *Catalog) MarshalFile() ([]byte, error) {
	f := catalogFile{Products: make([]productFile, len(c.Products))}
	for i := range c.Products {
		f.Products[i] = productFileOf(&c.Products[i])
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("events: marshal catalog: %w", err)
	}
	return b, nil
}

func productFileOf(p *Product) productFile {
	f := productFile{
		ID: p.ID, Name: p.Name, Schema: string(p.Schema), Currency: p.Currency, Contracts: p.Contracts,
		Marketplaces: p.Marketplaces, TimeZone: p.TimeZone, AssetSearch: p.AssetSearch,
		Period: periodFile{Kind: string(p.Period.Kind), CutoffDay: p.Period.CutoffDay, DaysBeforeEnd: p.Period.DaysBeforeEnd,
			Every: durationText(p.Period.Every)},
		AllowedLateness: durationText(p.AllowedLateness), MaxEventAge: durationText(p.MaxEventAge),
		Items: make([]itemFile, len(p.Items)),
	}
	for j := range p.Items {
		it := &p.Items[j]
		f.Items[j] = itemFile{
			MPN: it.MPN, Name: it.Name, Unit: it.Unit, Type: string(it.Type), Precision: it.Precision.String(),
			Aggregation: string(it.Aggregation), UniqueAttribute: it.UniqueAttribute, AllowNegative: it.AllowNegative,
			ItemSearch: it.ItemSearch, SearchValue: it.SearchValue,
		}
	}
	return f
}

// durationText is d as the catalog file writes it; empty for zero.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
