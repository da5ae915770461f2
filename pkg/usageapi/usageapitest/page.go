package usageapitest

import (
	"fmt"
	"slices"
	"strings"
)

// Page sizes of list endpoints. The spec names the paginator "RQL1000": a limit above 1000 is cut to 1000.
// The default page size is not documented; 100 is what the official Python client asks for.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// fieldSet maps each filterable field of a resource (as the spec documents it, aliases included) to a getter.
type fieldSet[T any] map[string]func(T) (string, bool)

// resource describes how a list endpoint filters, searches and orders its objects.
type resource[T any] struct {
	fields     fieldSet[T]
	searchable []string // fields the search=term parameter matches (ilike *term*)
}

// page is one answer of a list endpoint.
type page[T any] struct {
	items        []T
	contentRange string
}

// list applies q to all (in creation order) and cuts the requested page, with its Content-Range.
func (res resource[T]) list(q *listQuery, all []T) (page[T], error) {
	for _, f := range q.fields {
		if _, ok := res.fields[f.name]; !ok {
			return page[T]{}, fmt.Errorf("%w: unknown field %q in %s", errRQL, f.name, f.op)
		}
	}
	var kept []T
	for _, x := range all {
		get := res.getter(x)
		if (q.filter == nil || q.filter.match(get)) && res.searchMatch(q.search, get) {
			kept = append(kept, x)
		}
	}
	res.sort(kept, q.ordering)
	return cut(kept, q.limit, q.offset), nil
}

func (res resource[T]) getter(x T) getter {
	return func(field string) (string, bool) {
		if f, ok := res.fields[field]; ok {
			return f(x)
		}
		return "", false
	}
}

func (res resource[T]) searchMatch(term string, get getter) bool {
	if term == "" {
		return true
	}
	pattern := "*" + strings.ToLower(term) + "*"
	for _, f := range res.searchable {
		if v, ok := get(f); ok && wildcard(pattern, strings.ToLower(v)) {
			return true
		}
	}
	return false
}

// sort orders items by keys; nulls sort first, ties keep creation order.
func (res resource[T]) sort(items []T, keys []orderKey) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, k := range keys {
			f := res.fields[k.field]
			va, oka := f(a)
			vb, okb := f(b)
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
func cut[T any](items []T, limit, offset int) page[T] {
	total := len(items)
	if limit < 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	if limit == 0 {
		return page[T]{items: []T{}, contentRange: fmt.Sprintf("items 0-0/%d", total)}
	}
	start := min(offset, total)
	end := min(start+limit, total)
	window := append([]T{}, items[start:end]...)
	last := offset + len(window) - 1
	if len(window) == 0 {
		last = offset
	}
	return page[T]{items: window, contentRange: fmt.Sprintf("items %d-%d/%d", offset, last, total)}
}
