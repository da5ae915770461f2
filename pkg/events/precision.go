package events

import (
	"fmt"
	"strconv"
)

// Precision is the number of decimals an item's quantity may have: 0
// ("integer"), 1, 2, 4 or 8 ("decimal(1)" … "decimal(8)"), as in Connect.
type Precision int

// Precisions.
const (
	PrecisionInteger  Precision = 0
	PrecisionDecimal1 Precision = 1
	PrecisionDecimal2 Precision = 2
	PrecisionDecimal4 Precision = 4
	PrecisionDecimal8 Precision = 8
)

// Valid reports whether p is one of Connect's precisions.
func (p Precision) Valid() bool {
	switch p {
	case PrecisionInteger, PrecisionDecimal1, PrecisionDecimal2, PrecisionDecimal4, PrecisionDecimal8:
		return true
	}
	return false
}

// String returns Connect's name: "integer" or "decimal(N)".
func (p Precision) String() string {
	if p == PrecisionInteger {
		return "integer"
	}
	return "decimal(" + strconv.Itoa(int(p)) + ")"
}

// ParsePrecision reads "integer" or "decimal(N)" with N in 1, 2, 4, 8.
func ParsePrecision(s string) (Precision, error) {
	if s == "integer" {
		return PrecisionInteger, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "decimal(%d)", &n); err == nil && Precision(n).String() == s && Precision(n).Valid() && n > 0 {
		return Precision(n), nil
	}
	return 0, fmt.Errorf("precision %q: want integer, decimal(1), decimal(2), decimal(4) or decimal(8)", s)
}

// MarshalText writes the Connect name.
func (p Precision) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("events: invalid precision %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads the Connect name.
func (p *Precision) UnmarshalText(b []byte) error {
	v, err := ParsePrecision(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
