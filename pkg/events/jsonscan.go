package events

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// scanner is a strict, allocation-light JSON reader for the fixed shape of
// a usage event (RFC 8259; duplicate keys: the last wins). It reads values in
// place and validates everything it skips.
type scanner struct {
	b []byte
	i int
}

const maxJSONDepth = 256

func (s *scanner) syntaxErr() error {
	return errors.New("invalid JSON at byte " + strconv.Itoa(s.i))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// object calls field for each key of the object starting here; field must
// consume the value. A leading "null" is reported as null=true.
func (s *scanner) object(field func(key []byte) error) (null bool, err error) {
	if s.literal("null") {
		return true, nil
	}
	if !s.consume('{') {
		return false, errNotObject
	}
	if s.consume('}') {
		return false, nil
	}
	for {
		key, err := s.key()
		if err != nil {
			return false, err
		}
		if !s.consume(':') {
			return false, s.syntaxErr()
		}
		s.ws()
		if err := field(key); err != nil {
			return false, err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return false, nil
		}
		return false, s.syntaxErr()
	}
}

var errNotObject = errors.New("not a JSON object")
var errNotString = errors.New("not a JSON string")

// key reads an object key; escaped keys are decoded into a fresh slice.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.syntaxErr()
	}
	raw, escaped, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return raw[1 : len(raw)-1], nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, s.syntaxErr()
	}
	return []byte(k), nil
}

// str reads a JSON string (null reads as ""). Non-string values are
// consumed and reported as errNotString.
func (s *scanner) str() (string, error) {
	switch s.peek() {
	case '"':
	case 'n':
		if s.literal("null") {
			return "", nil
		}
		return "", s.syntaxErr()
	default:
		if _, err := s.raw(); err != nil {
			return "", err
		}
		return "", errNotString
	}
	raw, escaped, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", s.syntaxErr()
	}
	return v, nil
}

// rawString returns the quoted string at s.i; escaped is true when it needs
// decoding (escapes or invalid UTF-8).
func (s *scanner) rawString() (raw []byte, escaped bool, err error) {
	start := s.i
	s.i++
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw = s.b[start:s.i]
			if !ascii && !utf8.Valid(raw) {
				escaped = true
			}
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return nil, false, err
			}
			continue
		case c < 0x20:
			return nil, false, s.syntaxErr()
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, false, s.syntaxErr()
}

// escape validates the escape sequence at s.i and steps over it.
func (s *scanner) escape() error {
	if s.i+1 >= len(s.b) {
		return s.syntaxErr()
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return nil
	case 'u':
		if s.i+6 > len(s.b) {
			return s.syntaxErr()
		}
		for _, h := range s.b[s.i+2 : s.i+6] {
			if !isHex(h) {
				return s.syntaxErr()
			}
		}
		s.i += 6
		return nil
	}
	return s.syntaxErr()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// raw validates the value at s.i and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func (s *scanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == '{':
		_, err := s.object(func([]byte) error { return s.skip(depth + 1) })
		return err
	case c == '[':
		return s.array(depth)
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case s.literal("true"), s.literal("false"), s.literal("null"):
		return nil
	}
	return s.syntaxErr()
}

func (s *scanner) array(depth int) error {
	s.i++
	if s.consume(']') {
		return nil
	}
	for {
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return nil
		}
		return s.syntaxErr()
	}
}

// number steps over -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := s.digits(); n == 0 || n > 1 && s.b[start] == '0' {
		return s.syntaxErr()
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return s.syntaxErr()
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return s.syntaxErr()
		}
	}
	return nil
}

// digits steps over a run of digits and returns its length.
func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// end checks that only whitespace follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.syntaxErr()
	}
	return nil
}
