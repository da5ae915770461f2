package events

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MarshalJSON writes d as a JSON string in canonical form ("12.5"), so no
// consumer ever reads it through a float.
func (d Decimal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = d.appendCanonical(b)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON number or a JSON string holding a decimal number
// (exponents allowed). null leaves d unchanged, as encoding/json expects.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	v, err := decimalFromJSON(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// decimalFromJSON parses a JSON number, or a JSON string holding a decimal
// number, without surrounding space.
func decimalFromJSON[T text](b T) (Decimal, error) {
	switch {
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && !hasBackslash(b):
		return ParseDecimal(string(b[1 : len(b)-1]))
	case len(b) > 0 && b[0] == '"':
		s, err := unquote([]byte(b))
		if err != nil {
			return Decimal{}, fmt.Errorf("%w: %v", ErrBadDecimal, err)
		}
		return ParseDecimal(s)
	}
	return ParseDecimal(string(b))
}

// unquote decodes a JSON string.
func unquote(b []byte) (string, error) {
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

func hasBackslash[T text](b T) bool {
	for i := range len(b) {
		if b[i] == '\\' {
			return true
		}
	}
	return false
}

// MarshalText writes the canonical form.
func (d Decimal) MarshalText() ([]byte, error) { return d.appendCanonical(nil), nil }

// UnmarshalText parses a decimal number.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
