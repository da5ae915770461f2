package events

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

func TestFixedPoint(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  int64
		ok    bool
	}{
		{"0", 0, 0, true}, {"-0.000", 8, 0, true}, {"1", 0, 1, true}, {"1.5", 0, 0, false}, {"1.5", 1, 15, true},
		{"-1.25", 8, -125000000, true}, {"0.00000001", 8, 1, true}, {"0.000000001", 8, 0, false},
		{"1e3", 0, 1000, true}, {"12e-1", 1, 12, true}, {"92233720368.54775807", 8, math.MaxInt64, true},
		{"-92233720368.54775807", 8, -math.MaxInt64, true}, {"92233720368.54775808", 8, 0, false},
		{"-92233720368.54775808", 8, 0, false}, {"9223372036854775807", 0, math.MaxInt64, true},
		{"18446744073709551615", 0, 0, false}, {"100000000000000000000", 0, 0, false}, {"1", 18, 1e18, true},
		{"10", 18, 0, false}, {"1", 19, 0, false}, {"1", -1, 0, false},
	}
	for _, tt := range tests {
		d := MustDecimal(tt.in)
		got, ok := d.FixedPoint(tt.scale)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s.FixedPoint(%d) = %d, %v; want %d, %v", tt.in, tt.scale, got, ok, tt.want, tt.ok)
		}
		if ok && !reflect.DeepEqual(DecimalFromFixed(got, tt.scale), d) {
			t.Errorf("DecimalFromFixed(%d, %d) = %v, want %v", got, tt.scale, DecimalFromFixed(got, tt.scale), d)
		}
	}
}

// TestFixedPointNotNormalized: a value with trailing zeros in its coefficient (which no constructor makes, but
// apd allows) converts by its numeric value.
func TestFixedPointNotNormalized(t *testing.T) {
	var d Decimal
	d.v.SetFinite(1500, -3) // 1.500
	if v, ok := d.FixedPoint(1); v != 15 || !ok {
		t.Errorf("1.500 at scale 1: %d, %v", v, ok)
	}
	if _, ok := d.FixedPoint(0); ok {
		t.Error("1.500 at scale 0 converted")
	}
}

// TestFixedPointMatchesDecimal: for random values and scales, FixedPoint succeeds exactly when the value has at
// most scale decimals (Scale, which reduces) and fits, converts back to the identical Decimal, and integer sums
// of converted values convert back to the identical Decimal sum. Every constructor returns normalized values
// (reduction changes nothing), which is what lets callers trust the exponent.
func TestFixedPointMatchesDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		d := randomDecimal(r)
		var red apd.Decimal
		red.Reduce(&d.v)
		if !reflect.DeepEqual(red, d.v) && !d.IsZero() {
			t.Fatalf("%s is not normalized: %+v", d, d.v)
		}
		scale := r.IntN(MaxFixedScale + 1)
		v, ok := d.FixedPoint(scale)
		if want := d.Scale() <= scale && fitsFixed(d, scale); ok != want {
			t.Fatalf("%s.FixedPoint(%d): ok %v, want %v", d, scale, ok, want)
		}
		if !ok {
			continue
		}
		if back := DecimalFromFixed(v, scale); !reflect.DeepEqual(back, d) {
			t.Fatalf("%s at scale %d: %d converts back to %s (%+v)", d, scale, v, back, back.v)
		}
		e := randomDecimal(r)
		if w, ok := e.FixedPoint(scale); ok {
			if s, ok := addFixed(v, w); ok && !reflect.DeepEqual(DecimalFromFixed(s, scale), d.Add(e)) {
				t.Fatalf("%s + %s at scale %d: %s, want %s", d, e, scale, DecimalFromFixed(s, scale), d.Add(e))
			}
		}
	}
}

func randomDecimal(r *rand.Rand) Decimal {
	s := strconv.FormatUint(r.Uint64()>>r.IntN(64), 10)
	if n := r.IntN(10); n > 0 {
		s += "." + fmt.Sprintf("%0*d", n, r.IntN(1000))
	}
	if r.IntN(2) == 0 {
		s = "-" + s
	}
	return MustDecimal(s)
}

// fitsFixed reports whether |d|·10^scale ≤ MaxInt64, through apd.
func fitsFixed(d Decimal, scale int) bool {
	var x, lim apd.Decimal
	x.Abs(&d.v)
	x.Exponent += int32(scale)
	lim.SetInt64(math.MaxInt64)
	return x.Cmp(&lim) <= 0
}

func addFixed(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0) && s != math.MinInt64
}
