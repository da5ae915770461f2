package rql

import (
	"strconv"
)

// parseCall parses the arguments of name( … ) up to and including ')'.
func (p *rqlParser) parseCall(op string) (node, error) {
	var n node
	var err error
	switch op {
	case "and", "or":
		n, err = p.parseLogical(op)
	case "not":
		n, err = p.parseNot()
	case "ordering", "select":
		err = p.parseNamesArg(op)
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

// parseLogical parses the terms of and(a,b,…) and or(a,b,…): at least two, separated by ','.
func (p *rqlParser) parseLogical(op string) (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	var parts []node
	for {
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if len(parts) < 2 {
		return nil, p.errorf("%s() takes at least two terms", op)
	}
	if op == "or" {
		return orNode(parts), nil
	}
	return andNode(parts), nil
}

// parseNot parses not(x), where x is a comparison, in/out or like/ilike (possibly in parentheses): lib-rql's
// grammar has no logical operator inside not().
func (p *rqlParser) parseNot() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	switch n.(type) {
	case cmpNode, inNode:
		return notNode{n}, nil
	}
	return nil, p.errorf("not() takes one comparison, in/out or like, not a logical operator")
}

// parseNamesArg parses ordering(+a,-b) and select(a,-b) (select is accepted and ignored). Each may appear
// once, at the top level; ordering takes at most maxOrderingKeys keys.
func (p *rqlParser) parseNamesArg(op string) error {
	if p.depth > 0 {
		return p.errorf("%s() must stand at the top level", op)
	}
	if op == "ordering" && p.q.ordered || op == "select" && p.q.selected {
		return p.errorf("a query can contain only one %s()", op)
	}
	p.q.ordered = p.q.ordered || op == "ordering"
	p.q.selected = p.q.selected || op == "select"
	for first := true; p.peek() != ')'; first = false {
		if !first && p.peek() != ',' {
			return p.errorf("expected , or ) in %s()", op)
		}
		if !first {
			p.pos++
		}
		desc := p.peek() == '-'
		if c := p.peek(); c == '-' || c == '+' {
			p.pos++
		}
		name := p.readName()
		if name == "" {
			return p.errorf("expected a field in %s()", op)
		}
		if op == "ordering" {
			p.q.ordering = append(p.q.ordering, orderKey{field: name, desc: desc})
			p.q.uses = append(p.q.uses, fieldUse{name: name, op: op})
		}
	}
	if len(p.q.ordering) > maxOrderingKeys {
		return p.errorf("ordering() takes at most %d keys", maxOrderingKeys)
	}
	return nil
}

// parseList parses in(field,(a,b)) and out(field,(a,b)); the values must be in parentheses.
func (p *rqlParser) parseList(op string) (node, error) {
	field := p.readName()
	if field == "" || p.peek() != ',' || p.pos+1 >= len(p.src) || p.src[p.pos+1] != '(' {
		return nil, p.errorf("%s() takes a field and values in parentheses: %s(field,(a,b))", op, op)
	}
	p.pos += 2
	var values []rqlValue
	for {
		v, err := p.readValue()
		if err != nil {
			return nil, err
		}
		values = append(values, v)
		p.q.uses = append(p.q.uses, fieldUse{name: field, op: op, value: v})
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if p.peek() != ')' {
		return nil, p.errorf("missing ) after the values of %s()", op)
	}
	p.pos++
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

// comparison builds a comparison node, or records limit, offset or search, which are parameters (top
// level only, eq only, once), not filters.
func (p *rqlParser) comparison(op, field string, v rqlValue) (node, error) {
	switch field {
	case "limit", "offset", "search":
		return nil, p.parameter(op, field, v)
	case "ordering", "select":
		return nil, p.errorf("%s is written %s(…), not as a comparison", field, field)
	}
	p.q.uses = append(p.q.uses, fieldUse{name: field, op: op, value: v})
	return cmpNode{op: op, field: field, value: v}, nil
}

func (p *rqlParser) parameter(op, field string, v rqlValue) error {
	if p.depth > 0 || op != "eq" || p.q.params[field] {
		return p.errorf("%s is a parameter: once, at the top level, as %s=value", field, field)
	}
	p.q.params[field] = true
	if field == "search" {
		p.q.search = v.text
		return nil
	}
	n, err := strconv.Atoi(v.text)
	if err != nil || n < 0 || v.null || v.empty {
		return p.errorf("%s must be a non-negative integer", field)
	}
	if field == "limit" {
		p.q.limit = n
	} else {
		p.q.offset = n
	}
	return nil
}
