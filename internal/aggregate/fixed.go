package aggregate

import (
	"math"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Quantities and amounts are folded as fixed-point integers: a sum, max, min or last quantity as an int64 of
// units of 10^-scale (the item's precision when the key was created), a sum of amounts in units of
// 10^-events.AmountPrecision. Events.Decimal.FixedPoint converts exactly or not at all, every operation checks
// for overflow, and |v| ≤ math.MaxInt64 always, so the integer is the exact value. When a value cannot be held
// (an event's value beyond the int64 range, or a sum that would leave it), the aggregate moves that value to
// its accExt as an events.Decimal, for good, and continues there with the Decimal operations. Both ways give
// the same numbers: DecimalFromFixed normalizes like every Decimal result, so the records are identical,
// representation included (pinned by TestFixedFoldMatchesDecimal).

// fixedNum is an event's quantity or amount: the Decimal and, when ok, the same value in fixed point.
type fixedNum struct {
	d  *events.Decimal
	v  int64
	ok bool
}

// fixedOf converts d at scale.
func fixedOf(d *events.Decimal, scale int) fixedNum {
	v, ok := d.FixedPoint(scale)
	return fixedNum{d: d, v: v, ok: ok}
}

// addFixed returns a+b, ok false when the sum's magnitude would exceed math.MaxInt64.
func addFixed(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0) && s != math.MinInt64
}

// foldQty folds q into a sum, max, min or last quantity.
func (a *acc) foldQty(sp *foldSpec, q fixedNum, t int64) {
	if a.flags&flagQtyDec == 0 {
		if q.ok && a.foldFixed(sp.kind, q.v, t) {
			return
		}
		a.extension().qty = events.DecimalFromFixed(a.qty, sp.scale)
		a.flags |= flagQtyDec
		a.qty = 0
	}
	a.foldDecimal(sp.kind, *q.d, t)
}

// foldFixed folds q in fixed point; false, with nothing changed, when the sum would not fit.
func (a *acc) foldFixed(k aggKind, q, t int64) bool {
	first := a.events == 0
	switch k {
	case aggSum:
		s, ok := addFixed(a.qty, q)
		if !ok {
			return false
		}
		a.qty = s
	case aggMax:
		if first || q > a.qty {
			a.qty = q
		}
	case aggMin:
		if first || q < a.qty {
			a.qty = q
		}
	case aggLast:
		if x := a.extension(); first || t >= x.at {
			a.qty, x.at = q, t
		}
	}
	return true
}

// foldDecimal is foldFixed on ext.qty.
func (a *acc) foldDecimal(k aggKind, q events.Decimal, t int64) {
	first, x := a.events == 0, a.ext
	switch k {
	case aggSum:
		x.qty = x.qty.Add(q)
	case aggMax:
		if first || q.Cmp(x.qty) > 0 {
			x.qty = q
		}
	case aggMin:
		if first || q.Cmp(x.qty) < 0 {
			x.qty = q
		}
	case aggLast:
		if first || t >= x.at {
			x.qty, x.at = q, t
		}
	}
}

// addAmount adds an event's amount to the sum of amounts.
func (a *acc) addAmount(n fixedNum) {
	a.flags |= flagAmount
	if a.flags&flagAmountDec == 0 {
		if s, ok := addFixed(a.amt, n.v); n.ok && ok {
			a.amt = s
			return
		}
		a.extension().amount = events.DecimalFromFixed(a.amt, events.AmountPrecision)
		a.flags |= flagAmountDec
		a.amt = 0
	}
	a.ext.amount = a.ext.amount.Add(*n.d)
}

// quantity is the sum, max, min or last value (0 for the other aggregations).
func (a *acc) quantity(scale int) events.Decimal {
	if a.flags&flagQtyDec != 0 {
		return a.ext.qty
	}
	return events.DecimalFromFixed(a.qty, scale)
}

// amount is the sum of amounts, nil if no event carried one.
func (a *acc) amount() *events.Decimal {
	if a.flags&flagAmount == 0 {
		return nil
	}
	var v events.Decimal
	if a.flags&flagAmountDec != 0 {
		v = a.ext.amount
	} else {
		v = events.DecimalFromFixed(a.amt, events.AmountPrecision)
	}
	return &v
}

// setQuantity sets the quantity to d (a restored value), in fixed point if it fits.
func (a *acc) setQuantity(d events.Decimal, scale int) {
	if v, ok := d.FixedPoint(scale); ok {
		a.qty = v
		return
	}
	a.extension().qty = d
	a.flags |= flagQtyDec
}

// setAmount sets the sum of amounts to d (a restored value), in fixed point if it fits.
func (a *acc) setAmount(d events.Decimal) {
	a.flags |= flagAmount
	if v, ok := d.FixedPoint(events.AmountPrecision); ok {
		a.amt = v
		return
	}
	a.extension().amount = d
	a.flags |= flagAmountDec
}
