package usageapi

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
)

// DefaultPageSize is the limit of each page when the terms give no Limit.
const DefaultPageSize = 100

// ErrNoContentRange is returned by Count when the answer has no usable Content-Range header.
var ErrNoContentRange = errors.New("usageapi: answer has no Content-Range")

// List is a list endpoint and its query terms. All pages through it, Count counts it.
// A List holds no state: each call starts afresh.
type List[T any] struct {
	c     *Client
	op    string
	path  string
	terms []Term
	order Term // the ordering All adds when terms have none; zero: none
}

func newList[T any](c *Client, op, path string, terms []Term) List[T] {
	return List[T]{c: c, op: op, path: path, terms: terms}
}

// orderedBy sets the ordering All uses when the caller gives none. Offset paging needs a stable order:
// without one the server may list newest first, and an object created while pages are read shifts every
// offset, so items are repeated or skipped.
func (l List[T]) orderedBy(fields ...string) List[T] {
	l.order = Ordering(fields...)
	return l
}

// page is the position of an iteration.
type page struct {
	query  string // encoded filter, ordering, select and search terms
	limit  int
	offset int
}

// start returns the first page of an iteration, with the default ordering unless the terms order.
func (l List[T]) start() (page, error) {
	if l.order.kind == termOrdering && !slices.ContainsFunc(l.terms, func(t Term) bool { return t.kind == termOrdering }) {
		l.terms = append(slices.Clip(l.terms), l.order)
	}
	p, err := l.split()
	if err == nil && p.limit == 0 {
		err = fmt.Errorf("usageapi: %s: %w: Limit(0) lists nothing; use Count", l.op, ErrBadQuery)
	}
	return p, err
}

// split separates the terms into the query and the page parameters.
func (l List[T]) split() (page, error) {
	p := page{limit: DefaultPageSize}
	rest := make([]Term, 0, len(l.terms))
	for _, t := range l.terms {
		switch t.kind {
		case termLimit:
			p.limit = t.n
		case termOffset:
			p.offset = t.n
		default:
			rest = append(rest, t)
		}
	}
	q, err := Encode(rest...)
	if err != nil {
		return page{}, fmt.Errorf("usageapi: %s: %w", l.op, err)
	}
	p.query = q
	return p, nil
}

// get fetches one page (with retries) of limit items from offset.
func (l List[T]) get(ctx context.Context, q string, limit, offset int) ([]T, *response, error) {
	sep := "&"
	if q == "" {
		sep = ""
	}
	r := &request{op: l.op, method: "GET", path: l.path,
		query: q + sep + "limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(offset)}
	var items []T
	resp, err := l.c.call(ctx, r, &items)
	return items, resp, err
}

// All returns every item, page by page (limit/offset, Content-Range). On an error it yields the
// zero T and the error, and stops. Each page is retried as an idempotent GET.
func (l List[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p, err := l.start()
		for err == nil {
			var items []T
			var more bool
			items, more, err = l.next(ctx, &p)
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if err == nil && !more {
				return
			}
		}
		yield(zero, err)
	}
}

// next fetches the page at p and advances p. The next offset counts the items received, not
// the limit asked for: Connect cuts a limit above its maximum down without saying so.
func (l List[T]) next(ctx context.Context, p *page) ([]T, bool, error) {
	items, resp, err := l.get(ctx, p.query, p.limit, p.offset)
	if err != nil {
		return nil, false, err
	}
	p.offset += len(items)
	if len(items) == 0 {
		return nil, false, nil
	}
	if cr := resp.header.Get("Content-Range"); cr != "" {
		r, err := ParseContentRange(cr)
		if err != nil {
			return items, false, err
		}
		return items, p.offset < r.Total, nil
	}
	return items, len(items) >= p.limit, nil
}

// Collect returns every item as a slice.
func (l List[T]) Collect(ctx context.Context) ([]T, error) {
	var all []T
	for it, err := range l.All(ctx) {
		if err != nil {
			return all, err
		}
		all = append(all, it)
	}
	return all, nil
}

// Count returns how many items match, asking one empty page (limit=0) and reading the total of
// its Content-Range. Limit and Offset terms are ignored.
func (l List[T]) Count(ctx context.Context) (int, error) {
	p, err := l.split()
	if err != nil {
		return 0, err
	}
	_, resp, err := l.get(ctx, p.query, 0, 0)
	if err != nil {
		return 0, err
	}
	r, err := ParseContentRange(resp.header.Get("Content-Range"))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoContentRange, err)
	}
	return r.Total, nil
}
