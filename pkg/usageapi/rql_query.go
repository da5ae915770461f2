package usageapi

import (
	"fmt"
	"strings"
)

// And matches when every filter matches: and(a,b). Empty terms are skipped; one filter is
// returned as is.
func And(filters ...Term) Term { return logical("and", filters) }

// Or matches when any filter matches: or(a,b).
func Or(filters ...Term) Term { return logical("or", filters) }

// Not negates a comparison, an In/Out or a Like: not(a). The RQL grammar (lib-rql, which Connect
// parses with) allows no logical operator inside not(), so Not of an And, Or or Not term is an
// ErrBadQuery: negate its parts instead (not(and(a,b)) is or(not(a),not(b))).
func Not(filter Term) Term {
	switch {
	case filter.err != nil:
		return filter
	case filter.kind != termFilter:
		return badTerm("not: operand is not a filter: %q", filter.String())
	case filter.logical:
		return badTerm("not: operand %q is a logical operator, which RQL refuses inside not()", filter.expr)
	}
	return Term{kind: termFilter, expr: "not(" + filter.expr + ")", logical: true}
}

func logical(op string, filters []Term) Term {
	parts := make([]string, 0, len(filters))
	var only Term
	for _, f := range filters {
		switch {
		case f.err != nil:
			return f
		case f.kind == termNone:
			continue
		case f.kind != termFilter:
			return badTerm("%s: operand is not a filter: %q", op, f.String())
		}
		parts, only = append(parts, f.expr), f
	}
	switch len(parts) {
	case 0:
		return Term{}
	case 1:
		return only
	}
	return Term{kind: termFilter, expr: op + "(" + strings.Join(parts, ",") + ")", logical: true}
}

// Ordering sorts the list by fields; "-field" is descending, "field" or "+field" ascending.
func Ordering(fields ...string) Term { return signed("ordering", termOrdering, fields) }

// Select changes the fields of the answer: "-field" removes one, "field" or "+field" adds one.
func Select(fields ...string) Term { return signed("select", termSelect, fields) }

func signed(op string, kind termKind, fields []string) Term {
	for _, f := range fields {
		if !fieldName.MatchString(strings.TrimLeft(f, "+-")) || len(f)-len(strings.TrimLeft(f, "+-")) > 1 {
			return badTerm("%s: field %q", op, f)
		}
	}
	if len(fields) == 0 {
		return Term{}
	}
	return Term{kind: kind, expr: op + "(" + strings.Join(fields, ",") + ")"}
}

// Search matches text in every field the endpoint marks searchable (search=text). Text is quoted
// like any value when it holds spaces or RQL punctuation (Connect strips the quotes).
func Search(text string) Term {
	q, err := quoteValue(text)
	if err != nil {
		return Term{kind: termFilter, err: fmt.Errorf("search: %w", err)}
	}
	return Term{kind: termSearch, expr: q}
}

// Limit sets the page size of a list call (the limit query parameter). The iterators page
// with it; Connect caps it (1000 is the documented maximum of the usage namespace).
func Limit(n int) Term {
	if n < 0 {
		return badTerm("limit %d", n)
	}
	return Term{kind: termLimit, n: n}
}

// Offset sets the index of the first item of a list call (the offset query parameter).
func Offset(n int) Term {
	if n < 0 {
		return badTerm("offset %d", n)
	}
	return Term{kind: termOffset, n: n}
}

// Encode returns the raw URL query string of terms: each term URL-escaped (space as %20, never
// "+", which RQL reads as a plus) and joined with "&". Connect percent-decodes the whole query
// string before parsing it as RQL, so the result reads back as the RQL text of String.
func Encode(terms ...Term) (string, error) {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		if t.err != nil {
			return "", t.err
		}
		if t.kind == termNone {
			continue
		}
		parts = append(parts, escapeQuery(t.String()))
	}
	return strings.Join(parts, "&"), nil
}

// escapeQuery percent-encodes every byte that is not allowed verbatim in a URL query or that
// the query string syntax gives a meaning to ('&', '#', '%', '"', space, non-ASCII, controls).
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if queryVerbatim(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func queryVerbatim(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~()*+,:@'=!$;/", c) >= 0
}
