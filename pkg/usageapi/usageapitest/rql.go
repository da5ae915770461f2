package usageapitest

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// errRQL marks a query string the emulator cannot parse or that names an unknown field; answered 400 RQL_001.
var errRQL = errors.New("invalid RQL query")

// listQuery is a parsed list query: the filter, the ordering and the page window.
type listQuery struct {
	filter   node        // nil matches everything
	ordering []orderKey  // empty: creation order
	limit    int         // -1: the default page size
	offset   int         // 0 unless given
	search   string      // the search=term parameter, "" if absent
	fields   []fieldName // every field the query names, checked against the resource
}

// orderKey is one key of ordering(+a,-b).
type orderKey struct {
	field string
	desc  bool
}

// fieldName is a field used by the query, with the operator, for the "unknown field" check.
type fieldName struct{ name, op string }

// parseListQuery parses the raw query string of a list request. Like django-rql on the real service, it
// URL-decodes the whole string first (a '+' stays a '+'), so values holding RQL punctuation must be quoted.
func parseListQuery(rawQuery string) (*listQuery, error) {
	text, err := url.PathUnescape(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errRQL, err)
	}
	q := &listQuery{limit: -1}
	p := &rqlParser{src: text, q: q}
	n, err := p.parseAnd(true)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	q.filter = n
	return q, nil
}

// rqlParser is a recursive-descent parser over one decoded query string.
//
//	and   := or  (('&' | ',') or)*
//	or    := term ('|' term)*
//	term  := '(' and ')' | name '(' args ')' | name '=' [op '='] value
type rqlParser struct {
	src string
	pos int
	q   *listQuery
}

func (p *rqlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at %d: %s", errRQL, p.pos, fmt.Sprintf(format, args...))
}

func (p *rqlParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// parseAnd parses a conjunction; at top level both '&' and ',' separate, and empty terms are skipped.
func (p *rqlParser) parseAnd(top bool) (node, error) {
	var all []node
	for p.pos < len(p.src) {
		c := p.peek()
		if c == '&' || c == ',' {
			p.pos++
			continue
		}
		if c == ')' && !top {
			break
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if n != nil {
			all = append(all, n)
		}
	}
	return andOf(all), nil
}

func (p *rqlParser) parseOr() (node, error) {
	first, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	alts := []node{first}
	for p.peek() == '|' {
		p.pos++
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return orNode(alts), nil
}

func (p *rqlParser) parseTerm() (node, error) {
	if p.peek() == '(' {
		p.pos++
		n, err := p.parseAnd(false)
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return n, nil
	}
	name := p.readName()
	if name == "" {
		return nil, p.errorf("expected a name")
	}
	switch p.peek() {
	case '(':
		p.pos++
		return p.parseCall(name)
	case '=':
		p.pos++
		return p.parsePair(name)
	}
	return nil, p.errorf("expected ( or = after %q", name)
}

// readName reads an operator or field name (letters, digits, '_', '.', '-').
func (p *rqlParser) readName() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			break
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

// parsePair parses `field=value` and `field=op=value` (after the first '=').
func (p *rqlParser) parsePair(field string) (node, error) {
	save := p.pos
	if op := p.readName(); isComparison(op) && p.peek() == '=' {
		p.pos++
		v, err := p.readValue()
		if err != nil {
			return nil, err
		}
		return p.comparison(op, field, v)
	}
	p.pos = save
	v, err := p.readValue()
	if err != nil {
		return nil, err
	}
	return p.comparison("eq", field, v)
}

// parseCall parses the arguments of name( … ) up to and including ')'.
func (p *rqlParser) parseCall(op string) (node, error) {
	var n node
	var err error
	switch op {
	case "and", "or", "not":
		n, err = p.parseLogical(op)
	case "ordering", "select":
		n, err = p.parseNamesArg(op)
	case "in", "out":
		n, err = p.parseList(op)
	default:
		if !isComparison(op) {
			return nil, p.errorf("unknown operator %q", op)
		}
		n, err = p.parseBinary(op)
	}
	if err != nil {
		return nil, err
	}
	if p.peek() != ')' {
		return nil, p.errorf("missing ) after %s", op)
	}
	p.pos++
	return n, nil
}

func (p *rqlParser) parseLogical(op string) (node, error) {
	var parts []node
	for {
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	switch op {
	case "and":
		return andOf(parts), nil
	case "or":
		return orNode(parts), nil
	}
	if len(parts) != 1 {
		return nil, p.errorf("not() takes one expression")
	}
	return notNode{parts[0]}, nil
}

// parseNamesArg parses ordering(+a,-b) and select(a,-b); select is accepted and ignored.
func (p *rqlParser) parseNamesArg(op string) (node, error) {
	for p.peek() != ')' && p.pos < len(p.src) {
		desc := false
		switch p.peek() {
		case '-':
			desc = true
			p.pos++
		case '+':
			p.pos++
		case ',':
			p.pos++
			continue
		}
		name := p.readName()
		if name == "" {
			return nil, p.errorf("expected a field in %s()", op)
		}
		if op == "ordering" {
			p.q.ordering = append(p.q.ordering, orderKey{field: name, desc: desc})
			p.q.fields = append(p.q.fields, fieldName{name, "ordering"})
		}
	}
	return nil, nil
}

// parseList parses in(field,(a,b)) and the flat form in(field,a,b).
func (p *rqlParser) parseList(op string) (node, error) {
	field := p.readName()
	if field == "" || p.peek() != ',' {
		return nil, p.errorf("%s() needs a field and values", op)
	}
	p.pos++
	wrapped := p.peek() == '('
	if wrapped {
		p.pos++
	}
	var values []rqlValue
	for {
		v, err := p.readValue()
		if err != nil {
			return nil, err
		}
		values = append(values, v)
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if wrapped {
		if p.peek() != ')' {
			return nil, p.errorf("missing ) in %s()", op)
		}
		p.pos++
	}
	p.q.fields = append(p.q.fields, fieldName{field, op})
	return inNode{field: field, values: values, negate: op == "out"}, nil
}

func (p *rqlParser) parseBinary(op string) (node, error) {
	field := p.readName()
	if field == "" || p.peek() != ',' {
		return nil, p.errorf("%s() needs a field and a value", op)
	}
	p.pos++
	v, err := p.readValue()
	if err != nil {
		return nil, err
	}
	return p.comparison(op, field, v)
}

// comparison builds a comparison node, or records limit/offset/search, which are parameters, not filters.
func (p *rqlParser) comparison(op, field string, v rqlValue) (node, error) {
	switch field {
	case "limit", "offset":
		n, err := strconv.Atoi(v.text)
		if op != "eq" || err != nil || n < 0 {
			return nil, p.errorf("%s must be a non-negative integer", field)
		}
		if field == "limit" {
			p.q.limit = n
		} else {
			p.q.offset = n
		}
		return nil, nil
	case "search":
		p.q.search = v.text
		return nil, nil
	case "ordering":
		for _, f := range strings.Split(v.text, ",") {
			desc := strings.HasPrefix(f, "-")
			f = strings.TrimLeft(f, "+-")
			p.q.ordering = append(p.q.ordering, orderKey{field: f, desc: desc})
			p.q.fields = append(p.q.fields, fieldName{f, "ordering"})
		}
		return nil, nil
	}
	p.q.fields = append(p.q.fields, fieldName{field, op})
	return cmpNode{op: op, field: field, value: v}, nil
}

// rqlValue is one literal: text, or the constants null() and empty().
type rqlValue struct {
	text  string
	null  bool
	empty bool
}

// readValue reads a quoted or bare literal, or null()/empty().
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
	start := p.pos
	for p.pos < len(p.src) && !strings.ContainsRune(",)(&|", rune(p.src[p.pos])) {
		p.pos++
	}
	text := p.src[start:p.pos]
	if p.peek() == '(' && (text == "null" || text == "empty") {
		if !strings.HasPrefix(p.src[p.pos:], "()") {
			return rqlValue{}, p.errorf("%s takes no arguments", text)
		}
		p.pos += 2
		return rqlValue{null: text == "null", empty: text == "empty"}, nil
	}
	return rqlValue{text: text}, nil
}

func isComparison(op string) bool {
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le", "like", "ilike":
		return true
	}
	return false
}
