package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// AnyAsset is Key.Asset for products whose assets Connect finds by a parameter (asset_search
// parameter.<id>) when no AssetMap covers them: records name the Connect asset, usagepipe the vendor's id,
// so such products are compared per item, tier and period over all their assets (a swap between two assets
// cancels out).
const AnyAsset = "*"

// Keyer keys both sides of a comparison alike. Products searched by asset.id are keyed by the Connect asset
// id, which is the subscription; parameter-searched products by the vendor's subscription when Assets covers
// them, else by AnyAsset.
type Keyer struct {
	Catalog *events.Catalog
	Assets  AssetMap // nil: no parameter-searched product is mapped
}

// asset returns the Key.Asset of a subscription of product p (nil: unknown to the catalog).
func (k Keyer) asset(p *events.Product, subscription string) string {
	if p == nil || p.AssetSearch == "" || p.AssetSearch == events.DefaultAssetSearch || k.Assets.covers(p.ID) {
		return subscription
	}
	return AnyAsset
}

// Unmapped lists the catalog's parameter-searched products that Assets does not cover.
func (k Keyer) Unmapped() []string {
	var out []string
	for i := range k.Catalog.Products {
		p := &k.Catalog.Products[i]
		if _, ok := searchParameter(k.Catalog, p.ID); ok && !k.Assets.covers(p.ID) {
			out = append(out, p.ID)
		}
	}
	return out
}

var (
	errNoItem    = errors.New("no catalog item matches")
	errNoAsset   = errors.New("asset not in the asset map")
	errNoPeriod  = errors.New("record outside one period of the product")
	errNoProduct = errors.New("product not in the catalog")
)

// recordKey returns the key of a Connect record of file f, its quantity and amount. The period is the
// catalog's period containing the record's start (a record must end within it).
func (k Keyer) recordKey(rec *usageapi.Record, f *usageapi.File) (Key, events.Decimal, *events.Decimal, error) {
	var zero events.Decimal
	p, err := k.product(rec, f)
	if err != nil {
		return Key{}, zero, nil, err
	}
	mpn, err := itemMPN(p, rec.Item)
	if err != nil {
		return Key{}, zero, nil, err
	}
	asset, err := k.recordAsset(p, rec)
	if err != nil {
		return Key{}, zero, nil, err
	}
	period, err := recordPeriod(p, rec)
	if err != nil {
		return Key{}, zero, nil, err
	}
	qty, amount, err := recordValues(rec)
	if err != nil {
		return Key{}, zero, nil, err
	}
	key := Key{Product: p.ID, Asset: asset, Item: mpn, Period: PeriodKey(period.Start)}
	if f.Contract != nil {
		key.Contract = f.Contract.ID
	}
	if rec.Tier != nil {
		key.Tier = *rec.Tier
	}
	return key, qty, amount, nil
}

// product is the catalog product of a record: its file's, else its own product_id.
func (k Keyer) product(rec *usageapi.Record, f *usageapi.File) (*events.Product, error) {
	id := rec.ProductID
	if f.Product != nil && f.Product.ID != "" {
		id = f.Product.ID
	}
	p, ok := k.Catalog.Product(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errNoProduct, id)
	}
	return p, nil
}

// recordAsset is the Key.Asset of a record: the Connect asset id, the subscription Assets maps it to, or
// AnyAsset (see Keyer).
func (k Keyer) recordAsset(p *events.Product, rec *usageapi.Record) (string, error) {
	id := rec.AssetID
	if rec.Asset != nil && rec.Asset.ID != "" {
		id = rec.Asset.ID
	}
	if _, byParameter := searchParameter(k.Catalog, p.ID); !byParameter {
		return id, nil
	}
	if !k.Assets.covers(p.ID) {
		return AnyAsset, nil
	}
	sub, ok := k.Assets[p.ID][id]
	if !ok {
		return "", fmt.Errorf("%w: %s of product %s", errNoAsset, id, p.ID)
	}
	return sub, nil
}

// recordPeriod is the product's period containing the record's start; the record's end (Connect's
// inclusive end) must fall in it too.
func recordPeriod(p *events.Product, rec *usageapi.Record) (events.Period, error) {
	period := p.PeriodOf(rec.StartDate)
	if !rec.EndDate.IsZero() && (rec.EndDate.Before(rec.StartDate) || !rec.EndDate.Before(period.End)) {
		return period, fmt.Errorf("%w: %s – %s, period %s – %s", errNoPeriod, rec.StartDate.Format(time.RFC3339),
			rec.EndDate.Format(time.RFC3339), period.Start.Format(time.RFC3339), period.End.Format(time.RFC3339))
	}
	return period, nil
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
