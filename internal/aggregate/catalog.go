package aggregate

import (
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// meter is one (product, item, contract) that keys refer to by index: with the subscription, tier and period it
// is the identity of a key's records (events.PeriodRecord.RecordID), so the aggregation is not part of it and a
// record identity has one key at most. The table only grows, so an index stays valid for the life of the state
// and across snapshots.
type meter struct {
	product, item, contract string
}

// foldSpec is how a key folds its events: its item's aggregation (and unique attribute) when the key was
// created, and the scale of its fixed-point quantity (the item's precision then). A key keeps its spec for
// life, so a catalog change of an item's aggregation applies to keys created after it. Like meters, specs are
// an append-only table.
type foldSpec struct {
	agg   events.Aggregation
	attr  string // unique_count: the attribute counted
	scale int    // sum, max, min, last: decimals of the fixed-point quantity
	kind  aggKind
}

// specOf is the fold spec of keys created for it now.
func specOf(it *events.Item) foldSpec {
	sp := foldSpec{agg: it.Aggregation, kind: kindOf(it.Aggregation)}
	switch sp.kind {
	case aggUnique:
		sp.attr = it.UniqueAttribute
	case aggSum, aggMax, aggMin, aggLast:
		sp.scale = int(it.Precision)
	}
	return sp
}

// prodState is the state's view of one product: its definition, its items, a one-period lookup cache and its
// mark cursors. A product that leaves the catalog is retired: it keeps the definition it had (so its periods
// still close, expire and are marked) but its events are dead letters. p is nil only for a product known from
// the buckets of a version 1 or 2 snapshot alone (it had left the catalog then; its periods close and expire).
type prodState struct {
	id       string
	p        *events.Product
	retired  bool
	items    map[string]*itemState
	cur      events.Period // the period last looked up, [curStart, curEnd) in Unix nanoseconds
	curStart int64
	curEnd   int64
	curB     *bucket    // the bucket last looked up (nil after an expiry)
	lastItem *itemState // the item last resolved
	// marks has one cursor per contract the product ever had in the catalog: those it has now first, in
	// catalog order (index = contract index), then those it lost, by name.
	marks []markCursor
}

type itemState struct {
	it     *events.Item
	spec   uint32   // of keys created now
	meters []uint32 // by index of the product's Contracts
}

// loadCatalog makes c the state's catalog: its products, items and contracts are registered (keeping the meter
// and spec indexes already assigned, by a restored snapshot) and every other product with a definition is
// retired. Mark cursors of contracts new to the state are added unstarted.
func (s *State) loadCatalog(c *events.Catalog) {
	for _, ps := range s.prods {
		ps.retired, ps.items, ps.lastItem = ps.p != nil, nil, nil
	}
	if c != nil {
		for i := range c.Products {
			s.loadProduct(&c.Products[i])
		}
	}
	s.markProds = s.markProds[:0]
	for _, ps := range s.prods {
		if ps.p != nil {
			s.markProds = append(s.markProds, ps)
		}
	}
	slices.SortFunc(s.markProds, func(x, y *prodState) int { return strings.Compare(x.id, y.id) })
}

func (s *State) loadProduct(p *events.Product) {
	ps := s.product(p.ID)
	ps.p, ps.retired = p, false
	ps.items = make(map[string]*itemState, len(p.Items))
	for j := range p.Items {
		it := &p.Items[j]
		is := &itemState{it: it, spec: s.specID(specOf(it)), meters: make([]uint32, len(p.Contracts))}
		for k, contract := range p.Contracts {
			is.meters[k] = s.meterID(meter{product: p.ID, item: it.MPN, contract: contract})
		}
		ps.items[it.MPN] = is
	}
	ps.marks = arrangeCursors(ps.marks, p.Contracts)
}

// arrangeCursors orders cursors as prodState.marks: one per contract of the catalog, in its order (new ones
// unstarted), then the others by contract.
func arrangeCursors(old []markCursor, contracts []string) []markCursor {
	cs := make([]markCursor, 0, max(len(old), len(contracts)))
	for _, c := range contracts {
		cur := markCursor{contract: c, first: firstUnknown}
		if i := slices.IndexFunc(old, func(m markCursor) bool { return m.contract == c }); i >= 0 {
			cur = old[i]
		}
		cs = append(cs, cur)
	}
	var rest []markCursor
	for _, m := range old {
		if !slices.Contains(contracts, m.contract) {
			rest = append(rest, m)
		}
	}
	slices.SortFunc(rest, func(x, y markCursor) int { return strings.Compare(x.contract, y.contract) })
	return append(cs, rest...)
}

// product returns the state of product id, creating it.
func (s *State) product(id string) *prodState {
	ps := s.prods[id]
	if ps == nil {
		ps = &prodState{id: id}
		s.prods[id] = ps
	}
	return ps
}

func (s *State) meterID(m meter) uint32 {
	if id, ok := s.meterIdx[m]; ok {
		return id
	}
	id := uint32(len(s.meters))
	s.meters = append(s.meters, m)
	s.meterIdx[m] = id
	return id
}

func (s *State) specID(sp foldSpec) uint32 {
	sp.kind = kindOf(sp.agg)
	if id, ok := s.specIdx[sp]; ok {
		return id
	}
	id := uint32(len(s.specs))
	s.specs = append(s.specs, sp)
	s.specIdx[sp] = id
	return id
}

func (s *State) marketID(name string) uint32 {
	if id, ok := s.marketIdx[name]; ok {
		return id
	}
	id := uint32(len(s.markets))
	name = strings.Clone(name) // an event's string may be a substring of its packet
	s.markets = append(s.markets, name)
	s.marketIdx[name] = id
	return id
}

// contractIndex is events.Product.ContractFor as an index into p.Contracts.
func contractIndex(p *events.Product, e *events.Event) (int, bool) {
	c := e.Data.Contract
	if c == "" {
		return 0, len(p.Contracts) > 0
	}
	for i, pc := range p.Contracts {
		if pc == c {
			return i, true
		}
	}
	return 0, false
}
