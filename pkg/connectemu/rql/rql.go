package rql

import (
	"errors"
	"fmt"
	"net/url"
)

// ErrInvalid marks a query string the emulator refuses: one lib-rql's grammar cannot parse, or (checked by the
// resource) a field, lookup, value or ordering the endpoint does not offer. Answered 400 RQL_001.
var ErrInvalid = errors.New("invalid RQL query")

// maxOrderingKeys is django-rql's default bound on the keys of one ordering() (MAX_ORDERING_LENGTH_IN_QUERY).
const maxOrderingKeys = 5

// Query is a parsed list query: the filter, the ordering and the page window.
type Query struct {
	filter   node            // nil matches everything
	ordering []orderKey      // empty: the emulator's default order (newest first)
	ordered  bool            // an ordering() term was given
	selected bool            // a select() term was given (accepted, ignored)
	limit    int             // -1: the default page size
	offset   int             // 0 unless given
	params   map[string]bool // the parameters given (limit, offset, search), each allowed once
	search   string          // the search=term parameter, "" if absent
	uses     []fieldUse      // every field the query names, checked against the resource
}

// orderKey is one key of ordering(+a,-b).
type orderKey struct {
	field string
	desc  bool
}

// fieldUse is one use of a field by a query: a lookup with its value, or an ordering key (op "ordering").
type fieldUse struct {
	name  string
	op    string // eq, ne, gt, ge, lt, le, like, ilike, in, out or ordering
	value rqlValue
}

// Parse parses the raw query string of a list request (ErrInvalid when it cannot). Like django-rql on the
// real service, it URL-decodes the whole string first (a '+' stays a '+'), so values holding RQL
// punctuation must be quoted.
// It follows lib-rql's grammar where a client could be fooled by leniency: not() takes no logical
// operator, in() and out() take their values in parentheses, '|' needs parentheses, and() and or() take at
// least two terms, and the parameters (limit, offset, search, ordering, select) stand at the top level only.
func Parse(rawQuery string) (*Query, error) {
	text, err := url.PathUnescape(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	q := &Query{limit: -1, params: map[string]bool{}}
	p := &rqlParser{src: text, q: q}
	n, err := p.parseTop()
	if err != nil {
		return nil, err
	}
	q.filter = n
	return q, nil
}

// rqlParser is a recursive-descent parser over one decoded query string.
//
//	top   := term (('&' | ',') term)*
//	term  := '(' term (sep term)* ')' | name '(' args ')' | name '=' [op '='] value
//	sep   := ',' | '&' (and) or '|' | ';' (or), one kind per group
type rqlParser struct {
	src   string
	pos   int
	depth int // inside a group or a logical operator: parameters are not allowed
	q     *Query
}

func (p *rqlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at %d: %s", ErrInvalid, p.pos, fmt.Sprintf(format, args...))
}

func (p *rqlParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// parseTop parses the whole query: terms joined by '&' or ',' (ANDed). Parameters yield no node.
func (p *rqlParser) parseTop() (node, error) {
	var all []node
	for first := true; p.pos < len(p.src); first = false {
		if !first {
			if c := p.peek(); c != '&' && c != ',' {
				return nil, p.errorf("unexpected %q (a '|' needs parentheses: (a|b))", p.src[p.pos:])
			}
			p.pos++
		}
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	return andOf(all), nil
}

func (p *rqlParser) parseTerm() (node, error) {
	if p.peek() == '(' {
		return p.parseGroup()
	}
	name := p.readName()
	if name == "" {
		return nil, p.errorf("expected a name or '('")
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

// parseGroup parses '(' term (sep term)* ')': one term as itself, several as and (',' '&') or or ('|' ';').
// Mixing both kinds of separator in one group is refused: lib-rql's precedence there is not documented.
func (p *rqlParser) parseGroup() (node, error) {
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	var parts []node
	var kind byte
	for {
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		c := p.peek()
		if c == ')' {
			p.pos++
			break
		}
		sep := map[byte]byte{',': '&', '&': '&', '|': '|', ';': '|'}[c]
		if sep == 0 || kind != 0 && sep != kind {
			return nil, p.errorf("expected ')' or one kind of separator in a group, got %q", c)
		}
		kind = sep
		p.pos++
	}
	if kind == '|' {
		return orNode(parts), nil
	}
	return andOf(parts), nil
}

// readName reads an operator or field name: lib-rql's PROP, a letter then letters, digits, '_', '-', '.'.
func (p *rqlParser) readName() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (p.pos == start || !(c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9')) {
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

func isComparison(op string) bool {
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le", "like", "ilike":
		return true
	}
	return false
}
