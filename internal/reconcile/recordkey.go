package reconcile

import (
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// AnyAsset is Key.Asset for products whose assets Connect finds by a parameter (asset_search
// parameter.<id>): records name the Connect asset, usagepipe the vendor's id, and the Usage API offers no
// mapping, so such products are compared per item, tier and period over all their assets.
const AnyAsset = "*"

// assetOf returns the Key.Asset of a subscription of product p.
func assetOf(p *events.Product, subscription string) string {
	if p != nil && p.AssetSearch != "" && p.AssetSearch != events.DefaultAssetSearch {
		return AnyAsset
	}
	return subscription
}

// recordKeyer keys Connect records by the catalog: it maps the record's item back to the catalog MPN through
// the item's search criteria.
type recordKeyer struct{ cat *events.Catalog }

func newRecordKeyer(cat *events.Catalog) recordKeyer { return recordKeyer{cat: cat} }

var errNoItem = errors.New("no catalog item matches")

// key returns the record's key, quantity and amount.
func (rk recordKeyer) key(rec *usageapi.Record, f *usageapi.File) (Key, events.Decimal, *events.Decimal, error) {
	var zero events.Decimal
	productID := rec.ProductID
	if f.Product != nil && f.Product.ID != "" {
		productID = f.Product.ID
	}
	p, ok := rk.cat.Product(productID)
	if !ok {
		return Key{}, zero, nil, fmt.Errorf("product %q is not in the catalog", productID)
	}
	mpn, err := itemMPN(p, rec.Item)
	if err != nil {
		return Key{}, zero, nil, err
	}
	qty, amount, err := recordValues(rec)
	if err != nil {
		return Key{}, zero, nil, err
	}
	k := Key{Product: p.ID, Asset: assetOf(p, recordAsset(rec)), Item: mpn, Period: PeriodKey(rec.StartDate)}
	if f.Contract != nil {
		k.Contract = f.Contract.ID
	}
	if rec.Tier != nil {
		k.Tier = *rec.Tier
	}
	return k, qty, amount, nil
}

func recordAsset(rec *usageapi.Record) string {
	if rec.Asset != nil && rec.Asset.ID != "" {
		return rec.Asset.ID
	}
	return rec.AssetID
}

// itemMPN finds the catalog item whose search criteria and value match the record's item.
func itemMPN(p *events.Product, it *usageapi.RecordItem) (string, error) {
	if it == nil {
		return "", errNoItem
	}
	for i := range p.Items {
		ci := &p.Items[i]
		var have string
		switch ci.ItemSearch {
		case "item.local_id":
			have = it.LocalID
		case "item.global_id":
			have = it.ID
		default:
			have = it.MPN
		}
		if have != "" && have == ci.SearchValueOf() {
			return ci.MPN, nil
		}
	}
	return "", fmt.Errorf("%w item %s (mpn %q) of product %s", errNoItem, it.ID, it.MPN, p.ID)
}

// recordValues parses the record's usage and amount.
func recordValues(rec *usageapi.Record) (events.Decimal, *events.Decimal, error) {
	qty, err := events.ParseDecimal(rec.Usage.String())
	if err != nil {
		return qty, nil, fmt.Errorf("usage: %w", err)
	}
	if rec.Amount == "" {
		return qty, nil, nil
	}
	amount, err := events.ParseDecimal(rec.Amount.String())
	if err != nil {
		return qty, nil, fmt.Errorf("amount: %w", err)
	}
	return qty, &amount, nil
}
