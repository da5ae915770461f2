package aggregate

import (
	"math"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Apply applies one source message, an event packet: first the clock part (as Advance), then each event in
// order. Output is appended to out. A message whose seq is not above LastSeq is ignored.
func (s *State) Apply(seq uint64, arrival time.Time, evs []events.Event, out *Output) {
	if !s.accept(seq) {
		return
	}
	s.tick(arrival, out)
	s.hashes = s.hashes[:0]
	for i := range evs {
		h := hashKey(evs[i].Source, evs[i].ID)
		s.hashes = append(s.hashes, h)
		s.ids.touch(h)
	}
	for i := range evs {
		s.applyEvent(seq, &evs[i], s.hashes[i], out)
	}
	if len(s.dirty) > 0 {
		s.flushAdjustments(seq, out)
	}
}

func (s *State) applyEvent(seq uint64, e *events.Event, h uint64, out *Output) {
	if s.ids.contains(h) {
		s.duplicates++
		return
	}
	ps, is, m, r := s.resolve(e)
	if r != nil {
		s.deadLetter(seq, e, r, out)
		return
	}
	b, r := s.bucketFor(ps, e.Time)
	if r != nil {
		s.deadLetter(seq, e, r, out)
		return
	}
	s.ids.add(h)
	k := keyID{sub: e.Subject, start: b.period.Start.UnixNano(), meter: m, tier: int32(e.Data.Tier)}
	idx, ok := s.keys[k]
	if !ok {
		idx = s.newAcc(b, k, e)
	}
	a := s.slab.at(idx)
	var uniq string
	if s.meters[m].kind == aggUnique {
		uniq = e.Data.Attributes[is.it.UniqueAttribute]
	}
	if b.closed {
		d := s.dirtyFor(idx, a, b)
		d.digest.Add(e.Key())
		d.events++
	} else {
		a.digest.Add(e.Key())
	}
	a.fold(s.meters[m].kind, e.Data.Quantity, e.Time.UnixNano(), e.Data.Amount, uniq, seq)
}

// resolve finds the event's product, item and meter in the catalog and checks that the event can be folded.
func (s *State) resolve(e *events.Event) (*prodState, *itemState, uint32, *events.Rejection) {
	ps := s.prods[e.Data.Product]
	if ps == nil || ps.p == nil {
		return nil, nil, 0, reject(events.ReasonUnknownProduct, "data.product", "product %q is not in the catalog", e.Data.Product)
	}
	is := ps.items[e.Data.Item]
	if is == nil {
		return nil, nil, 0, reject(events.ReasonUnknownItem, "data.item", "product %s has no item %q", ps.id, e.Data.Item)
	}
	ci, ok := contractIndex(ps.p, e)
	if !ok {
		return nil, nil, 0, reject(events.ReasonUnknownContract, "data.contract", "product %s has no distribution contract %q", ps.id, e.Data.Contract)
	}
	if r := checkEvent(is.it, e); r != nil {
		return nil, nil, 0, r
	}
	return ps, is, is.meters[ci], nil
}

// checkEvent checks what the fold needs of an event: a quantity the item's aggregation accepts, an amount, a
// tier that fits the key and the unique attribute.
func checkEvent(it *events.Item, e *events.Event) *events.Rejection {
	if t := e.Data.Tier; t < 0 || t > math.MaxInt32 {
		return reject(events.ReasonBadTier, "data.tier", "tier %d is out of range", t)
	}
	switch it.Aggregation {
	case events.AggregationCount:
	case events.AggregationUniqueCount:
		if e.Data.Attributes[it.UniqueAttribute] == "" {
			return reject(events.ReasonMissingAttribute, "data.attributes."+it.UniqueAttribute,
				"item %s counts distinct values of attribute %q", it.MPN, it.UniqueAttribute)
		}
	default:
		q := e.Data.Quantity
		if q.Sign() < 0 && !it.AllowNegative {
			return reject(events.ReasonBadQuantity, "data.quantity", "quantity %s is negative and item %s does not allow it", q, it.MPN)
		}
		if sc := q.Scale(); sc > int(it.Precision) {
			return reject(events.ReasonBadQuantity, "data.quantity", "quantity %s has %d decimals, item %s allows %s", q, sc, it.MPN, it.Precision)
		}
	}
	if a := e.Data.Amount; a != nil {
		if a.Sign() < 0 && !it.AllowNegative {
			return reject(events.ReasonBadAmount, "data.amount", "amount %s is negative and item %s does not allow it", a, it.MPN)
		}
		if sc := a.Scale(); sc > events.AmountPrecision {
			return reject(events.ReasonBadAmount, "data.amount", "amount %s has %d decimals, the limit is %d", a, sc, events.AmountPrecision)
		}
	}
	return nil
}

// bucketFor returns the bucket of the product's period containing t, creating it: open if the period has not
// closed yet, closed (for an adjustment) if it has but is younger than the max event age.
func (s *State) bucketFor(ps *prodState, t time.Time) (*bucket, *events.Rejection) {
	if !ps.cur.Contains(t) {
		pd := ps.p.Period.Containing(t)
		if pd.IsZero() {
			return nil, reject(events.ReasonUnknownProduct, "data.product", "product %s has no valid period", ps.id)
		}
		ps.cur, ps.curB = pd, s.buckets[bucketKey{ps, pd.Start.UnixNano()}]
	}
	if ps.curB != nil {
		return ps.curB, nil
	}
	end := ps.cur.End.UnixNano()
	b := &bucket{prod: ps, period: ps.cur, due: end + int64(ps.p.AllowedLateness), expire: end + int64(ps.p.MaxEventAge)}
	if s.clock >= b.expire {
		return nil, reject(events.ReasonTooLate, "time", "period %s of product %s is older than the max event age %v",
			ps.cur, ps.id, ps.p.MaxEventAge)
	}
	b.closed = s.clock >= b.due
	s.buckets[bucketKey{ps, ps.cur.Start.UnixNano()}] = b
	ps.curB = b
	if b.closed {
		s.nextDue = min(s.nextDue, b.expire)
	} else {
		s.nextOut = min(s.nextOut, b.due)
		s.nextDue = min(s.nextDue, b.due)
	}
	return b, nil
}

func (s *State) newAcc(b *bucket, k keyID, e *events.Event) int32 {
	idx := s.slab.alloc()
	a := s.slab.at(idx)
	a.key = k
	a.market = s.marketID(e.Data.Marketplace)
	s.keys[k] = idx
	b.keys = append(b.keys, idx)
	return idx
}
