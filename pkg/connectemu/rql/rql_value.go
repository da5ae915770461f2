package rql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// rqlValue is one literal: text, or the constants null() and empty().
type rqlValue struct {
	text  string
	null  bool
	empty bool
}

// readValue reads a quoted literal, null(), empty(), or an unquoted literal as lib-rql's UNQUOTED_VAL
// allows it: a word character or one of - * + \ first, then word characters, spaces and . - : + @ * \.
// Anything else (a '/', '#', quote or bracket inside) must be quoted, and an empty value is refused.
func (p *rqlParser) readValue() (rqlValue, error) {
	if c := p.peek(); c == '\'' || c == '"' {
		end := strings.IndexByte(p.src[p.pos+1:], c)
		if end < 0 {
			return rqlValue{}, p.errorf("unterminated quote")
		}
		text := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return rqlValue{text: text}, nil
	}
	for _, k := range []string{"null()", "empty()"} {
		if strings.HasPrefix(p.src[p.pos:], k) {
			p.pos += len(k)
			return rqlValue{null: k == "null()", empty: k == "empty()"}, nil
		}
	}
	start := p.pos
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unquotedRune(r, p.pos == start) {
			break
		}
		p.pos += size
	}
	text := p.src[start:p.pos]
	if c := p.peek(); text == "" || p.pos < len(p.src) && !strings.ContainsRune(",)&|;", rune(c)) {
		return rqlValue{}, p.errorf("a value must be quoted here (%q)", p.src[start:min(len(p.src), p.pos+1)])
	}
	return rqlValue{text: text}, nil
}

// unquotedRune reports whether r may appear in an unquoted value, first or later.
func unquotedRune(r rune, first bool) bool {
	if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(`-*+\`, r) {
		return true
	}
	return !first && (unicode.IsSpace(r) || strings.ContainsRune(".:@", r))
}
