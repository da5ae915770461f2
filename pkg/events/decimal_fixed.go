package events

import (
	"math"
	"math/bits"

	"github.com/cockroachdb/apd/v3"
)

// MaxFixedScale is the largest scale FixedPoint and DecimalFromFixed take: 10^18 is the largest power of ten an
// int64 holds.
const MaxFixedScale = 18

// pow10 holds 10^0 … 10^MaxFixedScale.
var pow10 = func() (p [MaxFixedScale + 1]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// FixedPoint returns d·10^scale as an int64 when that is an integer whose magnitude is at most math.MaxInt64
// (so its negation fits too); ok is false when d has more than scale decimals or is too large, and for a scale
// outside 0..MaxFixedScale. When ok, DecimalFromFixed(v, scale) is d again, representation included. It never
// allocates.
func (d Decimal) FixedPoint(scale int) (v int64, ok bool) {
	if d.v.Form != apd.Finite || !d.v.Coeff.IsUint64() || scale < 0 || scale > MaxFixedScale {
		return 0, false
	}
	c := d.v.Coeff.Uint64()
	if c == 0 {
		return 0, true
	}
	e := int(d.v.Exponent) + scale
	for ; e < 0; e++ { // only a value with trailing zeros (not normalized) has an integer left here
		if c%10 != 0 {
			return 0, false
		}
		c /= 10
	}
	if e > MaxFixedScale {
		return 0, false
	}
	hi, lo := bits.Mul64(c, pow10[e])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if d.v.Negative {
		return -int64(lo), true
	}
	return int64(lo), true
}

// DecimalFromFixed returns v·10^-scale, normalized like every Decimal. scale must be in 0..MaxFixedScale.
func DecimalFromFixed(v int64, scale int) Decimal {
	var d Decimal
	d.v.SetFinite(v, int32(-scale))
	d.normalize()
	return d
}
