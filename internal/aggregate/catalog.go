package aggregate

import (
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// meter is one (product, item, contract, aggregation) that keys refer to by index. The table only grows, so an
// index stays valid for the life of the state and across snapshots.
type meter struct {
	product, item, contract string
	agg                     events.Aggregation
	kind                    aggKind
}

// prodState is the state's view of one product: its catalog entry (nil once the product left the catalog but
// still has periods here), its items, a one-period lookup cache and the next period to mark per contract.
type prodState struct {
	id       string
	p        *events.Product
	items    map[string]*itemState
	cur      events.Period // the period last looked up, [curStart, curEnd) in Unix nanoseconds
	curStart int64
	curEnd   int64
	curB     *bucket         // the bucket last looked up (nil after an expiry)
	lastItem *itemState      // the item last resolved
	marks    []events.Period // by contract index: the next period to mark; zero until marks start
}

type itemState struct {
	it     *events.Item
	meters []uint32 // by index of the product's Contracts
}

// loadCatalog registers every product, item and contract of the catalog, keeping the meter indexes already
// assigned (by a restored snapshot).
func (s *State) loadCatalog(c *events.Catalog) {
	if c == nil {
		return
	}
	for i := range c.Products {
		p := &c.Products[i]
		ps := s.product(p.ID)
		ps.p = p
		ps.marks = make([]events.Period, len(p.Contracts))
		ps.items = make(map[string]*itemState, len(p.Items))
		for j := range p.Items {
			it := &p.Items[j]
			is := &itemState{it: it, meters: make([]uint32, len(p.Contracts))}
			for k, contract := range p.Contracts {
				is.meters[k] = s.meterID(meter{product: p.ID, item: it.MPN, contract: contract, agg: it.Aggregation})
			}
			ps.items[it.MPN] = is
		}
		s.catalogProds = append(s.catalogProds, ps)
	}
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
	m.kind = kindOf(m.agg)
	if id, ok := s.meterIdx[m]; ok {
		return id
	}
	id := uint32(len(s.meters))
	s.meters = append(s.meters, m)
	s.meterIdx[m] = id
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
