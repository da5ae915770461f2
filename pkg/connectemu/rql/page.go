package rql

import (
	"fmt"
	"slices"
	"strings"
)

// Page sizes of list endpoints. The spec names the paginator "RQL1000": a limit above 1000 is cut to 1000.
// The default page size is not documented; 100 is what the official Python client asks for.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Resource describes how a list endpoint filters, searches and orders its objects: each filterable field
// (as the spec documents it, aliases included) with its spec.
type Resource[T any] map[string]Field[T]

// Page is one answer of a list endpoint: the objects of the window and its Content-Range header value.
type Page[T any] struct {
	Items        []T
	ContentRange string
}

// List applies q to all (in creation order) and cuts the requested page, with its Content-Range. Without
// ordering() the page comes newest first: Connect documents no default order, and a client that pages
// without one must not find a stable order here that the real service does not promise. A query naming a
// field res does not have, or using one in a way it does not offer, is ErrInvalid.
func (res Resource[T]) List(q *Query, all []T) (Page[T], error) {
	if err := res.check(q); err != nil {
		return Page[T]{}, err
	}
	var kept []T
	for _, x := range all {
		get := res.getter(x)
		if (q.filter == nil || q.filter.match(get)) && res.searchMatch(q.search, get) {
			kept = append(kept, x)
		}
	}
	if len(q.ordering) == 0 {
		slices.Reverse(kept)
	}
	res.sort(kept, q.ordering)
	return cut(kept, q.limit, q.offset), nil
}

// check refuses a query naming a field the endpoint does not offer, or using one in a way it does not.
func (res Resource[T]) check(q *Query) error {
	for _, u := range q.uses {
		f, ok := res[u.name]
		if !ok {
			return fmt.Errorf("%w: unknown field %q in %s", ErrInvalid, u.name, u.op)
		}
		if err := f.check(u.name, u); err != nil {
			return err
		}
	}
	return nil
}

func (res Resource[T]) getter(x T) getter {
	return func(field string) (string, bool) {
		if f, ok := res[field]; ok {
			return f.get(x)
		}
		return "", false
	}
}

// searchMatch matches term (ilike *term*) against the fields the spec marks searchable.
func (res Resource[T]) searchMatch(term string, get getter) bool {
	if term == "" {
		return true
	}
	pattern := "*" + strings.ToLower(term) + "*"
	for name, f := range res {
		if v, ok := get(name); f.search && ok && wildcard(pattern, strings.ToLower(v)) {
			return true
		}
	}
	return false
}

// sort orders items by keys; nulls sort first, ties keep their order.
func (res Resource[T]) sort(items []T, keys []orderKey) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, k := range keys {
			f := res[k.field]
			va, oka := f.get(a)
			vb, okb := f.get(b)
			d := compareNullable(va, oka, vb, okb)
			if k.desc {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return 0
	})
}

func compareNullable(a string, aok bool, b string, bok bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return -1
	case !bok:
		return 1
	}
	return compareText(a, b)
}

// cut returns the window [offset, offset+limit) and its header value `items a-b/total`. For an empty window
// the end equals the start; limit=0 answers `items 0-0/total`, as django-rql does.
func cut[T any](items []T, limit, offset int) Page[T] {
	total := len(items)
	if limit < 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	if limit == 0 {
		return Page[T]{Items: []T{}, ContentRange: fmt.Sprintf("items 0-0/%d", total)}
	}
	start := min(offset, total)
	end := min(start+limit, total)
	window := append([]T{}, items[start:end]...)
	last := offset + len(window) - 1
	if len(window) == 0 {
		last = offset
	}
	return Page[T]{Items: window, ContentRange: fmt.Sprintf("items %d-%d/%d", offset, last, total)}
}
