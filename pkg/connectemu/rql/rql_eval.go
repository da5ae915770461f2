package rql

import (
	"math/big"
	"strings"
	"time"
)

// getter reads one field of an object as text; ok is false when the field is null.
type getter func(field string) (value string, ok bool)

// node is one boolean expression of an RQL filter.
type node interface {
	match(get getter) bool
}

type andNode []node

type orNode []node

type notNode struct{ inner node }

// cmpNode is eq, ne, gt, ge, lt, le, like or ilike of one field against one literal.
type cmpNode struct {
	op    string
	field string
	value rqlValue
}

// inNode is in(field,(values)) or, negated, out(…).
type inNode struct {
	field  string
	values []rqlValue
	negate bool
}

// andOf returns the conjunction of parts (nil parts are parameters such as limit, and match everything).
func andOf(parts []node) node {
	var kept andNode
	for _, n := range parts {
		if n != nil {
			kept = append(kept, n)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return kept
}

func (a andNode) match(get getter) bool {
	for _, n := range a {
		if !n.match(get) {
			return false
		}
	}
	return true
}

func (o orNode) match(get getter) bool {
	for _, n := range o {
		if n == nil || n.match(get) {
			return true
		}
	}
	return false
}

func (n notNode) match(get getter) bool { return n.inner == nil || !n.inner.match(get) }

func (c cmpNode) match(get getter) bool {
	v, ok := get(c.field)
	switch c.op {
	case "eq":
		return equalValue(v, ok, c.value)
	case "ne":
		return !equalValue(v, ok, c.value)
	case "like":
		return ok && wildcard(c.value.text, v)
	case "ilike":
		return ok && wildcard(strings.ToLower(c.value.text), strings.ToLower(v))
	}
	if !ok || c.value.null {
		return false
	}
	d := compareText(v, c.value.text)
	switch c.op {
	case "gt":
		return d > 0
	case "ge":
		return d >= 0
	case "lt":
		return d < 0
	}
	return d <= 0 // le
}

func (n inNode) match(get getter) bool {
	v, ok := get(n.field)
	for _, want := range n.values {
		if equalValue(v, ok, want) {
			return !n.negate
		}
	}
	return n.negate
}

// equalValue compares a field with a literal: null() matches a null field, empty() an empty string, and
// numbers and timestamps compare by value (so 1.50 eq 1.5, and 2025-01-01T00:00:00Z eq 2025-01-01T00:00:00+00:00).
func equalValue(v string, ok bool, want rqlValue) bool {
	switch {
	case want.null:
		return !ok
	case want.empty:
		return ok && v == ""
	case !ok:
		return false
	}
	return v == want.text || compareText(v, want.text) == 0 && v != "" && want.text != ""
}

// wildcard matches RQL like patterns, where '*' is any run of characters and `\*` a literal star.
func wildcard(pattern, s string) bool {
	parts := splitStars(pattern)
	if len(parts) == 1 {
		return parts[0] == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// splitStars splits a like pattern at its unescaped stars, removing the escapes.
func splitStars(pattern string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// compareText orders two field texts: as numbers when both are numbers, as instants when both are dates or
// timestamps, otherwise as strings.
func compareText(a, b string) int {
	if x, ok := new(big.Rat).SetString(a); ok {
		if y, ok := new(big.Rat).SetString(b); ok {
			return x.Cmp(y)
		}
	}
	if x, ok := parseInstant(a); ok {
		if y, ok := parseInstant(b); ok {
			return x.Compare(y)
		}
	}
	return strings.Compare(a, b)
}

// instantLayouts are the date and date-time forms RQL values use (ISO 8601, zone optional meaning UTC).
var instantLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"}

func parseInstant(s string) (time.Time, bool) {
	for _, layout := range instantLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Exact returns the text field must have for an object to match q, when q's filter requires it: an eq of
// field, at the top level or inside and(), against a literal that only equals itself (text that is neither
// a number nor an instant, which compare by value). A list endpoint may then narrow its candidates to the
// objects whose field is exactly that text (an index of it), and List gives the same answer as over all.
func (q *Query) Exact(field string) (string, bool) { return exactIn(q.filter, field) }

func exactIn(n node, field string) (string, bool) {
	switch n := n.(type) {
	case cmpNode:
		v := n.value
		if n.op == "eq" && n.field == field && !v.null && !v.empty && v.text != "" && onlyText(v.text) {
			return v.text, true
		}
	case andNode:
		for _, m := range n {
			if text, ok := exactIn(m, field); ok {
				return text, true
			}
		}
	}
	return "", false
}

// onlyText reports whether s equals no other text under compareText: it is neither a number nor an instant.
func onlyText(s string) bool {
	if _, ok := new(big.Rat).SetString(s); ok {
		return false
	}
	_, ok := parseInstant(s)
	return !ok
}
