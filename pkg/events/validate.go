package events

import (
	"strings"
	"time"
)

// Limits of validated numbers.
const (
	// MaxQuantityIntDigits bounds the integer digits of quantities and amounts.
	MaxQuantityIntDigits = 20
	// AmountPrecision is the most decimals an amount may have.
	AmountPrecision = 8
)

// Validate checks a decoded event against the catalog at instant now and
// returns nil when it is valid. Checks run in a fixed order (envelope, product
// and item, subject, time, contract and marketplace, quantity, amount, tier,
// attributes, cumulative series) and the first failure is reported. Only ingest calls it; the
// aggregator's fold keeps its own checks of what it needs.
func (c *Catalog) Validate(e *Event, now time.Time) *Rejection {
	if r := validateEnvelope(e); r != nil {
		return r
	}
	p, ok := c.Product(e.Data.Product)
	if !ok {
		return reject(ReasonUnknownProduct, "data.product", "product %q is not in the catalog", clip(e.Data.Product))
	}
	it, ok := p.Item(e.Data.Item)
	if !ok {
		return reject(ReasonUnknownItem, "data.item", "product %s has no item %q", p.ID, clip(e.Data.Item))
	}
	if r := p.validateSubject(e.Subject); r != nil {
		return r
	}
	if r := p.validateTime(e.Time, now); r != nil {
		return r
	}
	if r := p.validateDistribution(e); r != nil {
		return r
	}
	if r := it.validateQuantity(e.Data.Quantity); r != nil {
		return r
	}
	if r := validateAmount(p, it, e.Data.Amount); r != nil {
		return r
	}
	if r := validateTier(p, e.Data.Tier); r != nil {
		return r
	}
	if r := it.validateAttributes(e.Data.Attributes); r != nil {
		return r
	}
	return it.validateCumulative(&e.Data, e.Time)
}

// validateCumulative checks what turning a cumulative quantity into deltas needs: a series, a start before
// the point's time, an item that sums, no amount (a running total's amount has no delta of its own) and a
// total that is not negative (counters start at zero).
func (it *Item) validateCumulative(u *Usage, t time.Time) *Rejection {
	c := u.Cumulative
	switch {
	case c == nil:
		return nil
	case c.Series == "" || len(c.Series) > MaxAttributeBytes:
		return reject(ReasonBadCumulative, "data.cumulative.series", "a cumulative quantity needs a series of 1 to %d bytes", MaxAttributeBytes)
	case c.Start.IsZero() || !c.Start.Before(t):
		return reject(ReasonBadCumulative, "data.cumulative.start", "the series' start %s must be before the point's time %s",
			c.Start.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
	case it.Aggregation != AggregationSum:
		return reject(ReasonBadCumulative, "data.item", "item %s aggregates with %s; cumulative totals become deltas only for sum items", it.MPN, it.Aggregation)
	case u.Amount != nil:
		return reject(ReasonBadCumulative, "data.amount", "a cumulative quantity cannot carry an amount")
	case u.Quantity.Sign() < 0:
		return reject(ReasonBadCumulative, "data.quantity", "a cumulative total cannot be negative (%s)", u.Quantity)
	}
	return nil
}

func validateEnvelope(e *Event) *Rejection {
	if e.SpecVersion == "" {
		return reject(ReasonMissingField, "specversion", "specversion is required")
	}
	if e.SpecVersion != SpecVersion {
		return reject(ReasonBadSpecVersion, "specversion", "specversion %q is not supported, want 1.0", clip(e.SpecVersion))
	}
	for _, f := range [...]struct{ name, v string }{
		{"id", e.ID}, {"source", e.Source}, {"type", e.Type}, {"subject", e.Subject},
	} {
		if f.v == "" {
			return reject(ReasonMissingField, f.name, "%s is required", f.name)
		}
		if len(f.v) > MaxAttributeBytes {
			return reject(ReasonTooLarge, f.name, "%s is %d bytes, the limit is %d", f.name, len(f.v), MaxAttributeBytes)
		}
	}
	for _, f := range [...]struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"subject", e.Subject}} {
		if i := controlCharacter(f.v); i >= 0 {
			return reject(ReasonControlCharacter, f.name, "%s holds a control character at byte %d (%q)", f.name, i, clip(f.v))
		}
	}
	if e.Time.IsZero() {
		return reject(ReasonMissingField, "time", "time is required")
	}
	if e.Data.Product == "" {
		return reject(ReasonMissingField, "data.product", "data.product is required")
	}
	if e.Data.Item == "" {
		return reject(ReasonMissingField, "data.item", "data.item is required")
	}
	return nil
}

func (p *Product) validateTime(t, now time.Time) *Rejection {
	if t.After(now.Add(FutureSkew)) {
		return reject(ReasonInFuture, "time", "time %s is more than %v after now", t.Format(time.RFC3339Nano), FutureSkew)
	}
	age := p.MaxEventAge
	if age <= 0 {
		age = DefaultMaxEventAge
	}
	if t.Before(now.Add(-age)) {
		return reject(ReasonTooOld, "time", "time %s is more than %v before now (product %s)", t.Format(time.RFC3339Nano), age, p.ID)
	}
	return nil
}

func (p *Product) validateDistribution(e *Event) *Rejection {
	if _, ok := p.ContractFor(e); !ok {
		return reject(ReasonUnknownContract, "data.contract", "product %s has no distribution contract %q", p.ID, clip(e.Data.Contract))
	}
	if m := e.Data.Marketplace; m != "" && len(p.Marketplaces) > 0 && !contains(p.Marketplaces, m) {
		return reject(ReasonUnknownMarketplace, "data.marketplace", "product %s is not sold in marketplace %q", p.ID, clip(m))
	}
	return nil
}

// validateQuantity: count ignores the value, so only the range applies.
func (it *Item) validateQuantity(q Decimal) *Rejection {
	if n := q.IntDigits(); n > MaxQuantityIntDigits {
		return reject(ReasonBadQuantity, "data.quantity", "quantity has %d integer digits, the limit is %d", n, MaxQuantityIntDigits)
	}
	if it.Aggregation == AggregationCount {
		return nil
	}
	if q.Sign() < 0 && !it.AllowNegative {
		return reject(ReasonBadQuantity, "data.quantity", "quantity %s is negative and item %s does not allow it", q, it.MPN)
	}
	if s := q.Scale(); s > int(it.Precision) {
		return reject(ReasonBadQuantity, "data.quantity", "quantity %s has %d decimals, item %s allows %s", q, s, it.MPN, it.Precision)
	}
	return nil
}

func validateAmount(p *Product, it *Item, a *Decimal) *Rejection {
	if a == nil {
		if p.Schema.RequiresAmount() {
			return reject(ReasonBadAmount, "data.amount", "schema %s requires an amount", p.Schema)
		}
		return nil
	}
	if n := a.IntDigits(); n > MaxQuantityIntDigits {
		return reject(ReasonBadAmount, "data.amount", "amount has %d integer digits, the limit is %d", n, MaxQuantityIntDigits)
	}
	if a.Sign() < 0 && !it.AllowNegative {
		return reject(ReasonBadAmount, "data.amount", "amount %s is negative and item %s does not allow it", a, it.MPN)
	}
	if s := a.Scale(); s > AmountPrecision {
		return reject(ReasonBadAmount, "data.amount", "amount %s has %d decimals, the limit is %d", a, s, AmountPrecision)
	}
	return nil
}

func validateTier(p *Product, tier int) *Rejection {
	switch {
	case p.Schema == SchemaTR && tier < 1:
		return reject(ReasonBadTier, "data.tier", "schema TR requires a tier of at least 1")
	case p.Schema != SchemaTR && tier != 0:
		return reject(ReasonBadTier, "data.tier", "schema %s has no tiers", p.Schema)
	case tier > maxTier:
		return reject(ReasonBadTier, "data.tier", "tier %d is above %d", tier, maxTier)
	}
	return nil
}

func (it *Item) validateAttributes(attrs map[string]string) *Rejection {
	if it.Aggregation != AggregationUniqueCount {
		return nil
	}
	if attrs[it.UniqueAttribute] == "" {
		return reject(ReasonMissingAttribute, "data.attributes."+it.UniqueAttribute, "item %s counts distinct values of attribute %q", it.MPN, it.UniqueAttribute)
	}
	return nil
}

// controlCharacter returns the byte offset of the first control character of s (C0, DEL or C1: what
// unicode.IsControl reports), or -1. s is valid UTF-8 (the decoder refuses anything else). Printable ASCII
// is checked eight bytes at a time (the last eight overlapping), as plainRun does; only a window that holds
// something else is looked at byte by byte.
func controlCharacter(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !printableASCII8(s[i:]) {
			return controlCharacterFrom(s, i)
		}
	}
	if i == len(s) || len(s) >= 8 && printableASCII8(s[len(s)-8:]) {
		return -1
	}
	return controlCharacterFrom(s, i)
}

// printableASCII8 reports whether the first eight bytes of s are all in 0x20…0x7e.
func printableASCII8(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	_ = s[7]
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	// A byte's high bit is set in m when it is < 0x20, 0x7f or ≥ 0x80 (and may be above such a byte).
	del := x ^ (ones * 0x7f)
	return ((x-ones*0x20)|(del-ones)|x)&highs == 0
}

// controlCharacterFrom is controlCharacter's byte-by-byte search from s[i:].
func controlCharacterFrom(s string, i int) int {
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return i
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f: // U+0080…U+009F
			return i
		}
	}
	return -1
}

// validateSubject: a product that finds assets by asset.id needs a Connect
// asset id; with parameter.<id> the subject is the vendor's value of that
// parameter, any text but a blank one (Connect would match no asset).
func (p *Product) validateSubject(subject string) *Rejection {
	if p.AssetSearch != "" && p.AssetSearch != DefaultAssetSearch {
		if strings.TrimSpace(subject) == "" {
			return reject(ReasonBadSubject, "subject", "product %s finds assets by %s, and the subject %q is blank", p.ID, p.AssetSearch, subject)
		}
		return nil
	}
	if IsAssetID(subject) {
		return nil
	}
	return reject(ReasonBadSubject, "subject", "product %s finds assets by asset.id, and %q is not a Connect asset id AS-dddd-dddd-dddd", p.ID, clip(subject))
}

// IsAssetID reports whether s has the form of a Connect asset id,
// AS-dddd-dddd-dddd (d a decimal digit).
func IsAssetID(s string) bool {
	if len(s) != len("AS-0000-0000-0000") || s[:3] != "AS-" {
		return false
	}
	for i := 3; i < len(s); i++ {
		if dash := (i-2)%5 == 0; dash != (s[i] == '-') || !dash && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
