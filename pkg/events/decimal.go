package events

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Decimal is an exact decimal number. The zero value is 0.
//
// A Decimal is a value: it may be copied freely, and no operation mutates
// its operands (every result is written to a fresh value), so copies that
// share apd storage never observe each other.
//
// ParseDecimal admits at most MaxDecimalIntDigits digits before and
// MaxDecimalFracDigits after the point. Arithmetic runs with DecimalDigits of
// precision and traps any rounding, so sums of admitted values stay exact for
// far more additions than any period can hold (about 10^40).
type Decimal struct {
	v apd.Decimal
}

const (
	// DecimalDigits is the precision of Decimal arithmetic.
	DecimalDigits = 100
	// MaxDecimalIntDigits bounds the integer digits ParseDecimal accepts.
	MaxDecimalIntDigits = 40
	// MaxDecimalFracDigits bounds the fractional digits ParseDecimal accepts.
	MaxDecimalFracDigits = 20
	// maxDecimalText bounds the length of the text ParseDecimal reads.
	maxDecimalText = 200
)

// ErrBadDecimal is returned (wrapped) for text that is not a finite decimal
// number inside the admitted range.
var ErrBadDecimal = errors.New("events: bad decimal")

// arith never rounds: Inexact and Rounded are traps, so they surface as errors.
var arith = apd.Context{
	Precision:   DecimalDigits,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps | apd.Inexact | apd.Rounded,
	Rounding:    apd.RoundHalfEven,
}

// ParseDecimal parses a decimal number such as "12", "-1.50" or "1e3".
// NaN, infinities, blanks and values outside the admitted range are errors.
func ParseDecimal(s string) (Decimal, error) {
	if d, ok := parseSmallDecimal(s); ok {
		return d, nil
	}
	return parseDecimal(s)
}

// parseSmallDecimal is ParseDecimal for the common [+-]digits[.digits] with
// at most 19 digits, which fit a uint64 coefficient; ok is false for any
// other text, left to parseDecimal. Both give identical values.
func parseSmallDecimal(s string) (d Decimal, ok bool) {
	i := 0
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		i++
	}
	var coeff uint64
	digits := func() int {
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			coeff = coeff*10 + uint64(s[i]-'0')
		}
		return i - start
	}
	n, frac := digits(), 0
	if n > 0 && i < len(s) && s[i] == '.' {
		i++
		if frac = digits(); frac == 0 {
			return d, false
		}
	}
	if n == 0 || i != len(s) || n+frac > 19 {
		return d, false
	}
	d.v.Coeff.SetUint64(coeff)
	d.v.Exponent = int32(-frac)
	d.v.Negative = s[0] == '-'
	d.normalize()
	return d, true
}

// parseDecimal is ParseDecimal's general path.
func parseDecimal(s string) (Decimal, error) {
	var d Decimal
	if !decimalSyntax(s) {
		return d, fmt.Errorf("%w: %q is not a decimal number", ErrBadDecimal, clip(s))
	}
	if _, _, err := arith.SetString(&d.v, s); err != nil {
		return Decimal{}, fmt.Errorf("%w: %q: %v", ErrBadDecimal, clip(s), err)
	}
	d.normalize()
	if err := d.checkRange(); err != nil {
		return Decimal{}, fmt.Errorf("%w: %q: %v", ErrBadDecimal, clip(s), err)
	}
	return d, nil
}

// MustDecimal is ParseDecimal that panics on error; for constants and tests.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DecimalFromInt returns i as a Decimal.
func DecimalFromInt(i int64) Decimal {
	var d Decimal
	d.v.SetInt64(i)
	d.normalize()
	return d
}

// Add returns d+o. It panics only if the exact sum needs more than
// DecimalDigits digits, which admitted values cannot reach in practice.
func (d Decimal) Add(o Decimal) Decimal {
	var r Decimal
	if _, err := arith.Add(&r.v, &d.v, &o.v); err != nil {
		panic(fmt.Sprintf("events: Decimal.Add: %v", err))
	}
	r.normalize()
	return r
}

// Sub returns d-o, with the same guarantee as Add.
func (d Decimal) Sub(o Decimal) Decimal {
	var r Decimal
	if _, err := arith.Sub(&r.v, &d.v, &o.v); err != nil {
		panic(fmt.Sprintf("events: Decimal.Sub: %v", err))
	}
	r.normalize()
	return r
}

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	var r Decimal
	r.v.Neg(&d.v)
	r.normalize()
	return r
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than o.
func (d Decimal) Cmp(o Decimal) int { return d.v.Cmp(&o.v) }

// Equal reports whether d and o are the same number ("1.50" equals "1.5").
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.v.Sign() }

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.v.IsZero() }

// Scale returns the number of digits after the point of the normalized value:
// 1.50 → 1, 12 → 0, 1e3 → 0.
func (d Decimal) Scale() int {
	var r apd.Decimal
	r.Reduce(&d.v)
	if r.Exponent >= 0 {
		return 0
	}
	return int(-r.Exponent)
}

// IntDigits returns the number of digits before the point (0 for |d| < 1).
func (d Decimal) IntDigits() int {
	var r apd.Decimal
	r.Reduce(&d.v)
	n := int(r.NumDigits()) + int(r.Exponent)
	if r.IsZero() || n < 0 {
		return 0
	}
	return n
}

// Max returns the greater of a and b.
func Max(a, b Decimal) Decimal {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// Min returns the lesser of a and b.
func Min(a, b Decimal) Decimal {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// String returns the canonical form: no exponent, no trailing zeros, "0" for
// zero ("-1.5", "12", "0.001").
func (d Decimal) String() string {
	return string(d.appendCanonical(nil))
}

// StringFixed returns d with at least places digits after the point
// (StringFixed(12.5, 4) = "12.5000"). It never rounds: a value with more
// decimals than places is written in full.
func (d Decimal) StringFixed(places int) string {
	b := d.appendCanonical(make([]byte, 0, 24))
	have := 0
	if i := strings.IndexByte(string(b), '.'); i >= 0 {
		have = len(b) - i - 1
	} else if places > 0 {
		b = append(b, '.')
	}
	for ; have < places; have++ {
		b = append(b, '0')
	}
	return string(b)
}

func (d Decimal) appendCanonical(buf []byte) []byte {
	if b, ok := d.appendSmall(buf); ok {
		return b
	}
	var r apd.Decimal
	r.Reduce(&d.v)
	if r.IsZero() {
		return append(buf, '0')
	}
	return r.Append(buf, 'f')
}

// appendSmall is appendCanonical for a finite value whose coefficient fits a
// uint64 and needs no reduction to print canonically (apd's 'f' format of
// the reduced value); ok is false for any other value.
func (d Decimal) appendSmall(buf []byte) (b []byte, ok bool) {
	if d.v.Form != apd.Finite || !d.v.Coeff.IsUint64() {
		return buf, false
	}
	c, exp := d.v.Coeff.Uint64(), int(d.v.Exponent)
	switch {
	case c == 0:
		return append(buf, '0'), true
	case exp < 0 && c%10 == 0: // trailing zeros to reduce away
		return buf, false
	}
	if d.v.Negative {
		buf = append(buf, '-')
	}
	var scratch [20]byte
	digits := strconv.AppendUint(scratch[:0], c, 10)
	switch point := len(digits) + exp; {
	case exp >= 0:
		buf = append(buf, digits...)
		for range exp {
			buf = append(buf, '0')
		}
	case point <= 0:
		buf = append(buf, "0."...)
		for range -point {
			buf = append(buf, '0')
		}
		buf = append(buf, digits...)
	default:
		buf = append(buf, digits[:point]...)
		buf = append(buf, '.')
		buf = append(buf, digits[point:]...)
	}
	return buf, true
}

// normalize puts a fresh result in canonical form: trailing zeros removed
// and zero unsigned with exponent 0, so equal numbers have equal
// representations (reflect.DeepEqual and == on values agree with Equal for
// values that fit apd's inline storage). It must only touch a value no other
// Decimal shares.
func (d *Decimal) normalize() {
	if d.v.IsZero() {
		d.v = apd.Decimal{}
		return
	}
	d.v.Reduce(&d.v)
}

func (d *Decimal) checkRange() error {
	if d.v.Form != apd.Finite {
		return errors.New("not finite")
	}
	var r apd.Decimal
	r.Reduce(&d.v)
	if d.IntDigits() > MaxDecimalIntDigits {
		return fmt.Errorf("more than %d integer digits", MaxDecimalIntDigits)
	}
	if r.Exponent < -MaxDecimalFracDigits {
		return fmt.Errorf("more than %d decimal places", MaxDecimalFracDigits)
	}
	d.v.Set(&r)
	return nil
}

// decimalSyntax accepts [+-]digits[.digits][(e|E)[+-]digits], with digits
// on at least one side of the point, and nothing else.
func decimalSyntax(s string) bool {
	if len(s) == 0 || len(s) > maxDecimalText {
		return false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	n := digitsAt(s, i)
	i += n
	if i < len(s) && s[i] == '.' {
		f := digitsAt(s, i+1)
		i += 1 + f
		n += f
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := digitsAt(s, i)
		if e == 0 || e > 6 {
			return false
		}
		i += e
	}
	return i == len(s)
}

func digitsAt(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		n++
	}
	return n
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
