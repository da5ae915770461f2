package usageapitest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Defaults of a catalog built from the pipeline's catalog, which names no vendor, provider or hub.
var (
	derivedVendor      = CatalogAccount{ID: "VA-000-001", Name: "Emulated Vendor"}
	derivedProvider    = CatalogAccount{ID: "PA-000-001", Name: "Emulated Provider"}
	derivedMarketplace = "MP-00001"
	derivedHub         = CatalogHub{ID: "HB-0000-0001", Name: "Emulated Hub"}
)

// CatalogFromEvents builds the Connect side of the pipeline's product catalog (package events): every
// product with its schema and items (found by the item search the pipeline uses), every contract, and the
// marketplaces they name (MP-00001 when a product names none), each with one hub. It has no assets: seed
// them, or use Options.AutoAssets.
func CatalogFromEvents(c *events.Catalog) *Catalog {
	out := &Catalog{Vendor: derivedVendor}
	currency := map[string]string{}
	for _, p := range c.Products {
		markets := p.Marketplaces
		if len(markets) == 0 {
			markets = []string{derivedMarketplace}
		}
		for _, m := range markets {
			if currency[m] == "" {
				currency[m] = p.Currency
			}
		}
		for _, k := range p.Contracts {
			out.Contracts = mergeByID(out.Contracts, []CatalogContract{{
				ID: k, Marketplace: markets[0], Provider: derivedProvider, Environment: "production",
			}}, func(k CatalogContract) string { return k.ID })
		}
		out.Products = append(out.Products, productFromEvents(&p))
	}
	for _, m := range slices.Sorted(maps.Keys(currency)) {
		out.Marketplaces = append(out.Marketplaces, CatalogMarketplace{ID: m, Currency: currency[m], Hubs: []CatalogHub{derivedHub}})
	}
	return out
}

// productFromEvents maps one pipeline product; item ids are PRD-…-NNNN unless the pipeline finds the item
// by item.global_id.
func productFromEvents(p *events.Product) CatalogProduct {
	out := CatalogProduct{ID: p.ID, Name: p.Name, Schema: string(p.Schema)}
	for i, it := range p.Items {
		item := CatalogItem{
			ID: fmt.Sprintf("%s-%04d", p.ID, i+1), MPN: it.MPN, Name: it.Name, Unit: it.Unit,
			Precision: it.Precision.String(), Type: itemType(it.Type),
		}
		switch value := firstNonEmpty(it.SearchValue, it.MPN); it.ItemSearch {
		case "item.local_id":
			item.LocalID = value
		case "item.global_id":
			item.ID = value
		default:
			item.MPN = value
		}
		out.Items = append(out.Items, item)
	}
	return out
}

// itemType is Connect's spelling of an item type (PPU, Reservation).
func itemType(t events.ItemType) string {
	if strings.EqualFold(string(t), "reservation") {
		return "Reservation"
	}
	return "PPU"
}
