package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Key identifies one billed quantity: an asset's item (and tier) in one period of a product and contract.
type Key struct {
	Product  string
	Contract string
	Asset    string // the subscription: Connect asset id, the vendor's id (parameter-searched products), or AnyAsset
	Item     string // the catalog item MPN
	Tier     int    // TR schema only; 0 otherwise
	Period   string // the period start in UTC, events.Period.Key form (20261125T000000Z)
}

// PeriodKey formats a period start as Key.Period.
func PeriodKey(start time.Time) string { return events.Period{Start: start}.Key() }

// NewKey is the key of a subscription's item and tier in the period of product p starting at start, for a
// comparison without an AssetMap; p may be nil for a product the catalog does not know.
func NewKey(p *events.Product, product, contract, subscription, item string, tier int, start time.Time) Key {
	return Keyer{}.NewKey(p, product, contract, subscription, item, tier, start)
}

// NewKey is the key of a subscription's item and tier in the period of product p starting at start.
func (k Keyer) NewKey(p *events.Product, product, contract, subscription, item string, tier int, start time.Time) Key {
	return Key{Product: product, Contract: contract, Asset: k.asset(p, subscription), Item: item, Tier: tier,
		Period: PeriodKey(start)}
}

// RecordKey is the key of an aggregator record.
func (k Keyer) RecordKey(r *events.PeriodRecord) Key { return k.rekey(SubscriptionKey(r)) }

// SubscriptionKey is the key of an aggregator record with its subscription as Asset, whatever the product's
// asset search.
func SubscriptionKey(r *events.PeriodRecord) Key {
	return Key{Product: r.Product, Contract: r.Contract, Asset: r.Subscription, Item: r.Item, Tier: r.Tier,
		Period: PeriodKey(r.PeriodStart)}
}

// rekey turns a key whose Asset is the subscription into k's key (see Keyer).
func (k Keyer) rekey(sub Key) Key {
	p, _ := k.Catalog.Product(sub.Product)
	sub.Asset = k.asset(p, sub.Asset)
	return sub
}

// String is "product/contract asset item[ tier N] period".
func (k Key) String() string {
	s := k.Product + "/" + k.Contract + " " + k.Asset + " " + k.Item
	if k.Tier != 0 {
		s += " tier " + strconv.Itoa(k.Tier)
	}
	return s + " " + k.Period
}

// Compare orders keys by product, contract, period, asset, item and tier.
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.Product, o.Product), cmp.Compare(k.Contract, o.Contract),
		cmp.Compare(k.Period, o.Period), cmp.Compare(k.Asset, o.Asset), cmp.Compare(k.Item, o.Item),
		cmp.Compare(k.Tier, o.Tier))
}

// Value is a key's total: quantity and amount (zero when the schema has none), and how many records (or
// events, for a ground truth) were folded into it.
type Value struct {
	Quantity events.Decimal
	Amount   events.Decimal
	Records  int
}

// Equal reports whether quantity and amount are equal (the record counts may differ).
func (v Value) Equal(o Value) bool { return v.Quantity.Equal(o.Quantity) && v.Amount.Equal(o.Amount) }

// String is "quantity" or "quantity (amount A)".
func (v Value) String() string {
	if v.Amount.IsZero() {
		return v.Quantity.String()
	}
	return fmt.Sprintf("%s (amount %s)", v.Quantity, v.Amount)
}

// Totals maps keys to their totals.
type Totals map[Key]Value

// Add adds a quantity and an optional amount to k's total and counts one record.
func (t Totals) Add(k Key, qty events.Decimal, amount *events.Decimal) {
	v := t[k]
	v.Quantity = v.Quantity.Add(qty)
	if amount != nil {
		v.Amount = v.Amount.Add(*amount)
	}
	v.Records++
	t[k] = v
}

// Keys returns the keys in Key.Compare order.
func (t Totals) Keys() []Key {
	keys := make([]Key, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, Key.Compare)
	return keys
}
