package devstack

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// The Connect identities of a world derived from the pipeline's catalog, which names no vendor, provider or
// hub.
var (
	derivedVendor      = connectemu.CatalogAccount{ID: "VA-000-001", Name: "Emulated Vendor"}
	derivedProvider    = connectemu.CatalogAccount{ID: "PA-000-001", Name: "Emulated Provider"}
	derivedMarketplace = "MP-00001"
	derivedHub         = connectemu.CatalogHub{ID: "HB-0000-0001", Name: "Emulated Hub"}
)

// ConnectCatalog maps the pipeline's product catalog into the emulated Connect's world: every product with
// its schema and items (found by the item search the pipeline uses), every contract, and the marketplaces
// they name (MP-00001 when a product names none), each with one hub. It has no assets: seed them, or run
// the emulator with AutoAssets. `usagepipe emulator --events-catalog` serves it.
func ConnectCatalog(c *events.Catalog) *connectemu.Catalog {
	out := &connectemu.Catalog{Vendor: derivedVendor}
	currency := map[string]string{}
	contracts := map[string]int{}
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
			contract := connectemu.CatalogContract{ID: k, Marketplace: markets[0], Provider: derivedProvider, Environment: "production"}
			if i, ok := contracts[k]; ok {
				out.Contracts[i] = contract
				continue
			}
			contracts[k] = len(out.Contracts)
			out.Contracts = append(out.Contracts, contract)
		}
		out.Products = append(out.Products, connectProduct(&p))
	}
	for _, m := range slices.Sorted(maps.Keys(currency)) {
		out.Marketplaces = append(out.Marketplaces, connectemu.CatalogMarketplace{ID: m, Currency: currency[m], Hubs: []connectemu.CatalogHub{derivedHub}})
	}
	return out
}

// connectProduct maps one pipeline product; item ids are PRD-…-NNNN unless the pipeline finds the item by
// item.global_id.
func connectProduct(p *events.Product) connectemu.CatalogProduct {
	out := connectemu.CatalogProduct{ID: p.ID, Name: p.Name, Schema: string(p.Schema)}
	for i, it := range p.Items {
		item := connectemu.CatalogItem{
			ID: fmt.Sprintf("%s-%04d", p.ID, i+1), MPN: it.MPN, Name: it.Name, Unit: it.Unit,
			Precision: it.Precision.String(), Type: connectItemType(it.Type),
		}
		switch value := cmp.Or(it.SearchValue, it.MPN); it.ItemSearch {
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

// connectItemType is Connect's spelling of an item type (PPU, Reservation).
func connectItemType(t events.ItemType) string {
	if strings.EqualFold(string(t), "reservation") {
		return "Reservation"
	}
	return "PPU"
}
