package aggregate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// decimalFold is the fold of the quantities and amounts with events.Decimal alone: what the fixed point must
// reproduce exactly.
type decimalFold struct {
	qty, amount events.Decimal
	at          int64
	n           int
}

func (r *decimalFold) fold(k aggKind, q events.Decimal, t int64, amount events.Decimal) {
	first := r.n == 0
	switch {
	case k == aggSum:
		r.qty = r.qty.Add(q)
	case k == aggMax && (first || q.Cmp(r.qty) > 0), k == aggMin && (first || q.Cmp(r.qty) < 0):
		r.qty = q
	case k == aggLast && (first || t >= r.at):
		r.qty, r.at = q, t
	}
	r.amount = r.amount.Add(amount)
	r.n++
}

// TestFixedFoldMatchesDecimal folds random quantities and amounts, small, near the limits of the fixed point
// and beyond it, and checks after every event that the aggregate's values are identical (reflect.DeepEqual,
// so the representation too) to a fold with events.Decimal alone, and that values the fixed point can hold
// are held there.
func TestFixedFoldMatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fellBack := map[bool]int{}
	for round := 0; round < 4000; round++ {
		k := []aggKind{aggSum, aggMax, aggMin, aggLast}[rng.IntN(4)]
		sp := &foldSpec{kind: k, scale: []int{0, 1, 2, 4, 8}[rng.IntN(5)]}
		var a acc
		var ref decimalFold
		for i := rng.IntN(12) + 1; i > 0; i-- {
			q := randomQuantity(rng, sp.scale)
			amount := randomQuantity(rng, events.AmountPrecision)
			at := int64(rng.IntN(5))
			a.fold(sp, fixedOf(&q, sp.scale), at, ptr(fixedOf(&amount, events.AmountPrecision)), "", 1)
			ref.fold(k, q, at, amount)
			if got := a.quantity(sp.scale); !reflect.DeepEqual(got, ref.qty) {
				t.Fatalf("%v at scale %d: quantity %s (%+v), want %s", k, sp.scale, got, got, ref.qty)
			}
			if got := a.amount(); got == nil || !reflect.DeepEqual(*got, ref.amount) {
				t.Fatalf("amount %s, want %s", decStr(got), ref.amount)
			}
		}
		checkRepresentation(t, &a, sp.scale, ref)
		fellBack[a.flags&(flagQtyDec|flagAmountDec) != 0]++
	}
	if fellBack[true] < 100 || fellBack[false] < 100 {
		t.Errorf("rounds with and without a Decimal fallback: %v; the test proves little", fellBack)
	}
}

// checkRepresentation: a value is a Decimal only if the fixed point cannot hold it, or could not at some
// point of a sum (a key never moves back).
func checkRepresentation(t *testing.T, a *acc, scale int, ref decimalFold) {
	t.Helper()
	if _, fits := ref.qty.FixedPoint(scale); !fits && a.flags&flagQtyDec == 0 {
		t.Fatalf("quantity %s held in fixed point at scale %d", ref.qty, scale)
	}
	if _, fits := ref.amount.FixedPoint(events.AmountPrecision); !fits && a.flags&flagAmountDec == 0 {
		t.Fatalf("amount %s held in fixed point", ref.amount)
	}
}

func ptr[T any](v T) *T { return &v }

// randomQuantity returns a value with at most scale decimals: mostly small, sometimes close to the int64 range
// at that scale, sometimes far beyond it, of either sign.
func randomQuantity(rng *rand.Rand, scale int) events.Decimal {
	var s string
	switch rng.IntN(6) {
	case 0:
		s = fmt.Sprint(rng.Int64()) // ~9e18 units: over the fixed-point range unless scale is 0
	case 1:
		s = "9" + strings.Repeat("0", 30)
	default:
		s = fmt.Sprint(rng.IntN(100000))
	}
	if scale > 0 && rng.IntN(2) == 0 {
		s += "." + fmt.Sprintf("%0*d", scale, rng.IntN(10))
	}
	if rng.IntN(3) == 0 {
		s = "-" + s
	}
	return events.MustDecimal(s)
}

// TestFixedOverflowThroughState: a sum that leaves the fixed-point range, and an amount too large for it,
// continue exactly as Decimals, across a snapshot, into the records and adjustments.
func TestFixedOverflowThroughState(t *testing.T) {
	big := "92233720368547758" // a tenth of the int64 range at the SUM item's 2 decimals
	h := newHarness(t, testConfig(t))
	h.apply(mins(1), ev("a", "S", "SUM", mins(1), big), ev("b", "S", "SUM", mins(1), big), ev("c", "S", "SUM", mins(1), "0.01"))
	h.apply(mins(2), ev("d", "S", "", mins(2), "1", withCost("", "92233720368.54775807")), ev("e", "S", "", mins(2), "1", withCost("", "0.00000001")))
	h.restore()
	r := closedOf(t, h.tick(mins(70)), "S", "SUM")
	if r.Quantity.String() != "184467440737095516.01" {
		t.Errorf("sum %s", r.Quantity)
	}
	adj := adjustmentOf(t, h.apply(mins(80), ev("f", "S", "SUM", mins(3), big)), "S", "SUM")
	if adj.Quantity.String() != big {
		t.Errorf("adjustment %s", adj.Quantity)
	}
	cost := closedOf(t, h.tick(t0.Add(48*time.Hour)), "S", "COST")
	if decStr(cost.Amount) != "92233720368.54775808" {
		t.Errorf("amount %s", decStr(cost.Amount))
	}
}
