package events

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// TestParseSmallDecimalMatchesGeneralPath: the fast path of ParseDecimal gives the very same values as the
// general one (same representation, so == and DeepEqual keep agreeing with Equal).
func TestParseSmallDecimalMatchesGeneralPath(t *testing.T) {
	inputs := []string{"0", "-0", "+0", "0.0", "-0.000", "1", "+1", "-1", "12.5", "311.75", "1.50", "007.50",
		"9999999999999999999", "-9999999999999999999", "18446744073709551615", "1844674407370955161.5",
		"0.0000000000000000001", "1234567890.123456789", "10", "100.000", "1.", ".5", "-.5", "1e3", "--1", "1..2",
		"", "-", "+", "1.2.3", " 1", "1 ", "0x10", "1_000", "١"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := ""
		switch r.IntN(3) {
		case 1:
			s = "-"
		case 2:
			s = "+"
		}
		s += fmt.Sprint(r.Uint64() >> r.IntN(64))
		if r.IntN(2) == 0 {
			s += "." + fmt.Sprintf("%0*d", r.IntN(12)+1, r.IntN(1000000))
		}
		inputs = append(inputs, s)
	}
	fast := 0
	for _, s := range inputs {
		want, wantErr := parseDecimal(s)
		got, ok := parseSmallDecimal(s)
		if !ok {
			continue
		}
		fast++
		if wantErr != nil || !reflect.DeepEqual(got, want) || got != want {
			t.Errorf("%q: fast path %#v, general path %#v (%v)", s, got, want, wantErr)
		}
	}
	if fast < len(inputs)/2 {
		t.Errorf("the fast path took only %d of %d inputs", fast, len(inputs))
	}
}

// TestAppendSmallMatchesApd: the fast path of the canonical form prints what apd prints for the reduced value,
// reduced or not, for the values it takes.
func TestAppendSmallMatchesApd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	taken := 0
	for i := range 50000 {
		var d Decimal
		c := r.Uint64() >> r.IntN(64)
		if i%4 == 0 {
			c = c / 1000 * 1000 // trailing zeros
		}
		d.v.Coeff.SetUint64(c)
		d.v.Exponent = int32(r.IntN(50) - 30)
		d.v.Negative = r.IntN(2) == 0
		var red apd.Decimal
		red.Reduce(&d.v)
		want := "0"
		if !red.IsZero() {
			want = string(red.Append(nil, 'f'))
		}
		got, ok := d.appendSmall([]byte("x"))
		if !ok {
			continue
		}
		taken++
		if string(got) != "x"+want {
			t.Fatalf("%d×10^%d negative %v: appendSmall %q, apd %q", c, d.v.Exponent, d.v.Negative, got[1:], want)
		}
	}
	if taken < 30000 {
		t.Errorf("the fast path took only %d values", taken)
	}
}
