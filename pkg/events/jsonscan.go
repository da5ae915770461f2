package events

import (
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// text is what a scanner reads: a []byte (DecodeEvent, SplitBatch) or a
// string (DecodeEventString, SplitBatchString). string(x) of a piece of it
// copies for []byte and is free for string, so values read from a string
// share its memory.
type text interface{ []byte | string }

// scanner is a strict, allocation-light JSON reader for the fixed shape of
// a usage event (RFC 8259; duplicate keys: the last wins). It reads values in
// place and validates everything it skips.
type scanner[T text] struct {
	b T
	i int
}

const maxJSONDepth = 256

// maxValidDepth is encoding/json's nesting limit: json.Valid refuses deeper
// values, and so does SplitBatch.
const maxValidDepth = 10000

func (s *scanner[T]) syntaxErr() error {
	return errors.New("invalid JSON at byte " + strconv.Itoa(s.i))
}

func (s *scanner[T]) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: no space
	}
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') }

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner[T]) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner[T]) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// object calls field for each key of the object starting here; field must
// consume the value. A leading "null" is reported as null=true.
func (s *scanner[T]) object(field func(key T) error) (null bool, err error) {
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

// key reads an object key; escaped keys are decoded into a fresh value. A key that is not valid text is
// errBadText, as str's values are (read as U+FFFD, distinct keys would become one).
func (s *scanner[T]) key() (T, error) {
	var zero T
	if s.peek() != '"' {
		return zero, s.syntaxErr()
	}
	raw, escaped, err := s.rawString()
	if err != nil {
		return zero, err
	}
	if !escaped {
		return raw[1 : len(raw)-1], nil
	}
	if !validText(raw) {
		return zero, errBadText
	}
	var k string
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return zero, s.syntaxErr()
	}
	return T(k), nil
}

// str reads a JSON string (null reads as ""). Non-string values are
// consumed and reported as errNotString.
func (s *scanner[T]) str() (string, error) {
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
	if !validText(raw) {
		return "", errBadText
	}
	var v string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", s.syntaxErr()
	}
	return v, nil
}

// errBadText: a JSON string holds invalid UTF-8 or a \u escape of a lone surrogate. encoding/json would read
// either as U+FFFD, so distinct strings would collapse into one; str refuses them instead.
var errBadText = errors.New("not valid UTF-8 text (an invalid byte or a lone surrogate escape)")

// validText reports whether the quoted JSON string raw (its escapes well formed) is valid UTF-8 whose \u
// escapes of surrogates come in high-low pairs.
func validText[T text](raw T) bool {
	if !validUTF8(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' {
			i++
			continue
		}
		switch r := hex4(raw[i+2 : i+6]); {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate without its high one
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return false
			}
			if low := hex4(raw[i+8 : i+12]); low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 6
		}
		i += 5
	}
	return true
}

// hex4 is the value of four hex digits.
func hex4[T text](h T) rune {
	var r rune
	for i := range 4 {
		c := rune(h[i])
		switch {
		case c >= 'a':
			c -= 'a' - 10
		case c >= 'A':
			c -= 'A' - 10
		default:
			c -= '0'
		}
		r = r<<4 | c
	}
	return r
}

// plainByte marks the bytes a JSON string holds as they are: printable
// ASCII other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// rawString returns the quoted string at s.i; escaped is true when it needs
// decoding (escapes or invalid UTF-8).
func (s *scanner[T]) rawString() (raw T, escaped bool, err error) {
	start := s.i
	ascii := true
	for i := start + 1; ; {
		i = plainRun(s.b, i)
		if i == len(s.b) {
			s.i = i
			return raw, false, s.syntaxErr()
		}
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			raw = s.b[start:s.i]
			if !ascii && !validUTF8(raw) {
				escaped = true
			}
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			s.i = i
			if err := s.escape(); err != nil {
				return raw, false, err
			}
			i = s.i
		case c < 0x20:
			s.i = i
			return raw, false, s.syntaxErr()
		default:
			ascii = false
			i++
		}
	}
}

// plainRun returns the end of the run of plainByte bytes at b[i:], testing
// eight bytes at a time.
func plainRun[T text](b T, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		_ = b[i+7]
		x := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		// A byte's high bit is set in m when it is < 0x20, '"', '\\' or ≥ 0x80,
		// and may be set above such a byte (borrows carry upwards): the lowest
		// set bit is exact.
		below, quote, backslash := x-ones*0x20, (x^(ones*'"'))-ones, (x^(ones*'\\'))-ones
		if m := (below | quote | backslash | x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	return i
}

func validUTF8[T text](x T) bool {
	switch v := any(x).(type) {
	case string:
		return utf8.ValidString(v)
	case []byte:
		return utf8.Valid(v)
	}
	return false
}

// escape validates the escape sequence at s.i and steps over it.
func (s *scanner[T]) escape() error {
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
		for j := s.i + 2; j < s.i+6; j++ {
			if !isHex(s.b[j]) {
				return s.syntaxErr()
			}
		}
		s.i += 6
		return nil
	}
	return s.syntaxErr()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (s *scanner[T]) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) {
		return false
	}
	for j := range len(lit) {
		if s.b[s.i+j] != lit[j] {
			return false
		}
	}
	s.i += len(lit)
	return true
}

// raw validates the value at s.i and returns its bytes.
func (s *scanner[T]) raw() (T, error) {
	s.ws()
	start := s.i
	if err := s.skip(0); err != nil {
		var zero T
		return zero, err
	}
	return s.b[start:s.i], nil
}

func (s *scanner[T]) skip(depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == '{':
		return s.skipObject(depth)
	case c == '[':
		return s.array(depth)
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case s.literal("true"), s.literal("false"), s.literal("null"):
		return nil
	}
	return s.syntaxErr()
}

// skipObject steps over the object at s.i, validating it.
func (s *scanner[T]) skipObject(depth int) error {
	s.i++
	if s.consume('}') {
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntaxErr()
		}
		if _, _, err := s.rawString(); err != nil {
			return err
		}
		if !s.consume(':') {
			return s.syntaxErr()
		}
		s.ws()
		if err := s.skip(depth + 1); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return nil
		}
		return s.syntaxErr()
	}
}

func (s *scanner[T]) array(depth int) error {
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

// valid steps over the value at s.i and reports whether json.Valid would
// accept it inside depth enclosing containers (maxValidDepth at most).
func (s *scanner[T]) valid(depth int) bool {
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err == nil
	case c == '{' || c == '[':
		return depth < maxValidDepth && s.validContainer(depth+1, c+2) // '{'+2 = '}', '['+2 = ']'
	case c == '-' || c >= '0' && c <= '9':
		return s.number() == nil
	}
	return s.literal("true") || s.literal("false") || s.literal("null")
}

// validContainer steps over the object or array at s.i (depth counts it),
// whose closing byte is end.
func (s *scanner[T]) validContainer(depth int, end byte) bool {
	s.i++
	if s.consume(end) {
		return true
	}
	for {
		if end == '}' {
			if s.peek() != '"' {
				return false
			}
			if _, _, err := s.rawString(); err != nil || !s.consume(':') {
				return false
			}
		}
		if !s.valid(depth) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume(end)
	}
}

// number steps over -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner[T]) number() error {
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
func (s *scanner[T]) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// end checks that only whitespace follows.
func (s *scanner[T]) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.syntaxErr()
	}
	return nil
}
