package usageapitest

import (
	"fmt"
	"slices"
)

// lookup is one RQL lookup a filterable field offers, as the spec's "**lookups:**" lines name them.
type lookup uint16

const (
	lkEq lookup = 1 << iota
	lkNe
	lkLike
	lkILike
	lkNull
	lkIn
	lkOut
	lkGt
	lkGe
	lkLt
	lkLe
)

// The lookup sets the spec gives its fields.
const (
	textLookups    = lkEq | lkNe | lkLike | lkILike | lkNull | lkIn | lkOut // most string fields
	choiceLookups  = lkEq | lkNe | lkLike | lkILike | lkIn | lkOut          // enums (status, schema, …): no null
	rangeLookups   = lkGe | lkGt | lkLe | lkLt                              // usage files' created.at
	instantLookups = lkEq | lkNe | lkGe | lkGt | lkLe | lkLt | lkNull | lkIn | lkOut
)

var lookupByOp = map[string]lookup{
	"eq": lkEq, "ne": lkNe, "like": lkLike, "ilike": lkILike, "in": lkIn, "out": lkOut,
	"gt": lkGt, "ge": lkGe, "lt": lkLt, "le": lkLe,
}

// field is one filterable field of a list endpoint: how to read it, and what the spec allows on it.
type field[T any] struct {
	get     func(T) (string, bool)
	lookups lookup
	search  bool     // matched by search=term
	order   bool     // allowed in ordering()
	choices []string // an enum: eq, ne, in and out take only these values (django-rql answers 400 otherwise)
	instant bool     // a date-time: compared values must be ISO dates or date-times
}

func textField[T any](get func(T) (string, bool)) field[T] {
	return field[T]{get: get, lookups: textLookups}
}

func choiceField[T any, E ~string](get func(T) (string, bool), lookups lookup, choices ...E) field[T] {
	f := field[T]{get: get, lookups: lookups}
	for _, c := range choices {
		f.choices = append(f.choices, string(c))
	}
	return f
}

func instantField[T any](get func(T) (string, bool), lookups lookup) field[T] {
	return field[T]{get: get, lookups: lookups, instant: true}
}

// searchable marks f as matched by search=term; orderable as allowed in ordering().
func (f field[T]) searchable() field[T] { f.search = true; return f }
func (f field[T]) orderable() field[T]  { f.order = true; return f }

// check refuses a use of the field the spec does not offer: ordering a field that is not orderable, a
// lookup it lacks, null() without the null lookup (or with an operator other than eq, ne, in, out),
// empty() with another operator, a value outside its enum, or a date-time that does not parse.
func (f field[T]) check(name string, u fieldUse) error {
	if u.op == "ordering" {
		if !f.order {
			return fmt.Errorf("%w: field %q cannot be ordered", errRQL, name)
		}
		return nil
	}
	if f.lookups&lookupByOp[u.op] == 0 {
		return fmt.Errorf("%w: field %q has no %s lookup", errRQL, name, u.op)
	}
	equality := u.op == "eq" || u.op == "ne" || u.op == "in" || u.op == "out"
	v := u.value
	switch {
	case v.null && (f.lookups&lkNull == 0 || !equality):
		return fmt.Errorf("%w: field %q cannot be compared with null() by %s", errRQL, name, u.op)
	case v.empty && (!equality || f.instant || f.choices != nil):
		return fmt.Errorf("%w: field %q cannot be compared with empty() by %s", errRQL, name, u.op)
	case v.null || v.empty:
	case f.instant && !isInstant(v.text):
		return fmt.Errorf("%w: field %q: %q is not a date or date-time", errRQL, name, v.text)
	case f.choices != nil && equality && !slices.Contains(f.choices, v.text):
		return fmt.Errorf("%w: field %q: %q is not one of %v", errRQL, name, v.text, f.choices)
	}
	return nil
}

func isInstant(s string) bool {
	_, ok := parseInstant(s)
	return ok
}
