package rql

import (
	"fmt"
	"slices"
)

// Lookup is the set of RQL lookups a filterable field offers, as the spec's "**lookups:**" lines name them.
type Lookup uint16

// The single lookups.
const (
	Eq Lookup = 1 << iota
	Ne
	Like
	ILike
	Null // comparing with null() (by eq, ne, in or out)
	In
	Out
	Gt
	Ge
	Lt
	Le
)

// The lookup sets the spec gives its fields.
const (
	TextLookups    = Eq | Ne | Like | ILike | Null | In | Out // most string fields
	ChoiceLookups  = Eq | Ne | Like | ILike | In | Out        // enums (status, schema, …): no null
	RangeLookups   = Ge | Gt | Le | Lt                        // usage files' created.at
	InstantLookups = Eq | Ne | Ge | Gt | Le | Lt | Null | In | Out
)

var lookupByOp = map[string]Lookup{
	"eq": Eq, "ne": Ne, "like": Like, "ilike": ILike, "in": In, "out": Out,
	"gt": Gt, "ge": Ge, "lt": Lt, "le": Le,
}

// Field is one filterable field of a list endpoint: how to read it (get reports false for null), and what
// the spec allows on it.
type Field[T any] struct {
	get     func(T) (string, bool)
	lookups Lookup
	search  bool     // matched by search=term
	order   bool     // allowed in ordering()
	choices []string // an enum: eq, ne, in and out take only these values (django-rql answers 400 otherwise)
	instant bool     // a date-time: compared values must be ISO dates or date-times
}

// Text is a string field with TextLookups.
func Text[T any](get func(T) (string, bool)) Field[T] {
	return Field[T]{get: get, lookups: TextLookups}
}

// Choice is an enum field: eq, ne, in and out take only the choices (none given: any value).
func Choice[T any, E ~string](get func(T) (string, bool), lookups Lookup, choices ...E) Field[T] {
	f := Field[T]{get: get, lookups: lookups}
	for _, c := range choices {
		f.choices = append(f.choices, string(c))
	}
	return f
}

// Instant is a date-time field: compared values must be ISO dates or date-times.
func Instant[T any](get func(T) (string, bool), lookups Lookup) Field[T] {
	return Field[T]{get: get, lookups: lookups, instant: true}
}

// Searchable marks f as matched by search=term.
func (f Field[T]) Searchable() Field[T] { f.search = true; return f }

// Orderable marks f as allowed in ordering().
func (f Field[T]) Orderable() Field[T] { f.order = true; return f }

// check refuses a use of the field the spec does not offer: ordering a field that is not orderable, a
// lookup it lacks, null() without the null lookup (or with an operator other than eq, ne, in, out),
// empty() with another operator, a value outside its enum, or a date-time that does not parse.
func (f Field[T]) check(name string, u fieldUse) error {
	if u.op == "ordering" {
		if !f.order {
			return fmt.Errorf("%w: field %q cannot be ordered", ErrInvalid, name)
		}
		return nil
	}
	if f.lookups&lookupByOp[u.op] == 0 {
		return fmt.Errorf("%w: field %q has no %s lookup", ErrInvalid, name, u.op)
	}
	equality := u.op == "eq" || u.op == "ne" || u.op == "in" || u.op == "out"
	v := u.value
	switch {
	case v.null && (f.lookups&Null == 0 || !equality):
		return fmt.Errorf("%w: field %q cannot be compared with null() by %s", ErrInvalid, name, u.op)
	case v.empty && (!equality || f.instant || f.choices != nil):
		return fmt.Errorf("%w: field %q cannot be compared with empty() by %s", ErrInvalid, name, u.op)
	case v.null || v.empty:
	case f.instant && !isInstant(v.text):
		return fmt.Errorf("%w: field %q: %q is not a date or date-time", ErrInvalid, name, v.text)
	case f.choices != nil && equality && !slices.Contains(f.choices, v.text):
		return fmt.Errorf("%w: field %q: %q is not one of %v", ErrInvalid, name, v.text, f.choices)
	}
	return nil
}

func isInstant(s string) bool {
	_, ok := parseInstant(s)
	return ok
}
