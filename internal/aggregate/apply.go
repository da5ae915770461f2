package aggregate

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Apply applies one source message, an event packet: first the clock part (as Advance), then each event in
// order. Output is appended to out. A message whose seq is not above LastSeq is ignored.
//
// The events go through passes that change nothing but prepare the last one, which applies them in order:
// hash the ids, load their dedup buckets, resolve the events against the catalog and their periods, load their
// key index slots, load their aggregates. Each load pass is a tight loop, so the cache misses of a packet
// overlap instead of queueing one behind the other.
func (s *State) Apply(seq uint64, arrival time.Time, evs []events.Event, out *Output) {
	if !s.accept(seq) {
		return
	}
	s.tick(arrival, out)
	s.prep = slices.Grow(s.prep[:0], len(evs))[:len(evs)]
	for i := range evs {
		s.prep[i].term, s.prep[i].id = s.hasher.hash(evs[i].Source, evs[i].ID)
	}
	for i := range s.prep {
		s.ids.touch(s.prep[i].id)
	}
	for i := range evs {
		s.prepare(&evs[i], &s.prep[i])
	}
	for i := range s.prep {
		s.prep[i].slot = s.index.touch(s.prep[i].key)
	}
	for i := range s.prep {
		if v := s.prep[i].slot; v != 0 {
			s.sink += s.slab.at(int32(uint32(v)) - 1).flags
		}
	}
	for i := range evs {
		s.applyEvent(seq, &evs[i], &s.prep[i], out)
	}
	if len(s.dirty) > 0 {
		s.flushAdjustments(seq, out)
	}
}

// prepared is what the first pass learns of an event.
type prepared struct {
	id    uint64        // dedup hash of the event key
	term  events.Digest // the event key's term in a Digest
	key   uint64        // hashKeyID of the key
	slot  uint64        // its home slot in the key index
	ps    *prodState
	it    *events.Item
	meter uint32
	spec  uint32   // of a key created now
	q     fixedNum // the quantity at the item's precision
	amt   fixedNum // the amount, if any
	start int64    // the event's period, Unix nanoseconds
	end   int64
	rej   *events.Rejection
}

func (s *State) prepare(e *events.Event, p *prepared) {
	p.key, p.slot = 0, 0
	var is *itemState
	var ci int
	if p.ps, is, ci, p.rej = s.resolve(e); p.rej != nil {
		return
	}
	p.it, p.meter, p.spec = is.it, is.meters[ci], is.spec
	if p.rej = checkEvent(p.it, &s.specs[p.spec], e, p); p.rej != nil {
		return
	}
	if p.start, p.end, p.rej = periodOf(p.ps, e.Time); p.rej != nil {
		return
	}
	if p.rej = tooOld(p.ps, ci, p.start); p.rej != nil {
		return
	}
	k := keyID{sub: e.Subject, start: p.start, meter: p.meter, tier: int32(e.Data.Tier)}
	p.key = hashKeyID(&k)
}

// tooOld rejects an event of a period before the first one marked for its product and contract: it closed
// before the stream began (end + allowed lateness ≤ MarkFrom), no partition marks it, and its records would
// never be filed.
func tooOld(ps *prodState, ci int, start int64) *events.Rejection {
	if start >= ps.marks[ci].first {
		return nil
	}
	return reject(events.ReasonTooOld, "time", "period %s of product %s closed before the first period marked (MarkFrom)",
		ps.cur, ps.id)
}

func (s *State) applyEvent(seq uint64, e *events.Event, p *prepared, out *Output) {
	bi, dup := s.ids.find(p.id)
	if dup {
		s.duplicates++
		return
	}
	if p.rej != nil {
		s.deadLetter(seq, e, p.rej, out)
		return
	}
	b, rej := s.bucketOf(p.ps, p.start, p.end)
	if rej != nil {
		s.deadLetter(seq, e, rej, out)
		return
	}
	k := keyID{sub: e.Subject, start: p.start, meter: p.meter, tier: int32(e.Data.Tier)}
	idx, spec := s.find(p.key, &k), p.spec
	if idx >= 0 {
		if spec = s.slab.at(idx).spec; spec != p.spec {
			if rej := checkEvent(p.it, &s.specs[spec], e, p); rej != nil { // the key folds as it was created
				s.deadLetter(seq, e, rej, out)
				return
			}
		}
	}
	if e.Data.Cumulative != nil {
		if fold, rej := s.cumulate(e, p, b); !fold {
			if rej != nil {
				s.deadLetter(seq, e, rej, out)
			}
			return
		}
	}
	s.ids.insertAt(bi, p.id)
	if idx < 0 {
		idx = s.newAcc(b, &k, p.key, spec, e)
	}
	s.fold(seq, e, p, b, idx)
}

// fold adds the event to the aggregate idx of bucket b.
func (s *State) fold(seq uint64, e *events.Event, p *prepared, b *bucket, idx int32) {
	a := s.slab.at(idx)
	sp := &s.specs[a.spec]
	var uniq string
	if sp.kind == aggUnique {
		uniq = e.Data.Attributes[sp.attr]
	}
	if b.closed {
		d := s.dirtyFor(idx, a, b)
		d.digest.Merge(p.term)
		d.events++
	} else {
		a.digest.Merge(p.term)
		if e.TraceParent != "" {
			b.noteTrace(s.meters[p.meter].contract, e.TraceParent, e.Source, e.ID)
		}
	}
	q, amt := p.q, &p.amt
	if a.spec != p.spec && sp.kind.hasQty() { // a key of another scale than the item's precision now
		q = fixedOf(&e.Data.Quantity, sp.scale)
	}
	if e.Data.Amount == nil {
		amt = nil
	}
	a.fold(sp, q, e.Time.UnixNano(), amt, uniq, seq)
}

// resolve finds the event's product, item and contract index in the catalog. Consecutive events of one
// product and item (the common case) skip the map lookups.
func (s *State) resolve(e *events.Event) (*prodState, *itemState, int, *events.Rejection) {
	ps := s.lastProd
	if ps == nil || ps.id != e.Data.Product {
		if ps = s.prods[e.Data.Product]; ps == nil || ps.p == nil || ps.retired {
			return nil, nil, 0, reject(events.ReasonUnknownProduct, "data.product", "product %q is not in the catalog", e.Data.Product)
		}
		s.lastProd = ps
	}
	is := ps.lastItem
	if is == nil || is.it.MPN != e.Data.Item {
		if is = ps.items[e.Data.Item]; is == nil {
			return nil, nil, 0, reject(events.ReasonUnknownItem, "data.item", "product %s has no item %q", ps.id, e.Data.Item)
		}
		ps.lastItem = is
	}
	ci, ok := contractIndex(ps.p, e)
	if !ok {
		return nil, nil, 0, reject(events.ReasonUnknownContract, "data.contract", "product %s has no distribution contract %q", ps.id, e.Data.Contract)
	}
	return ps, is, ci, nil
}

// checkEvent checks what folding an event of item it with spec sp needs, with the rules of
// events.Catalog.Validate: a quantity within the item's precision and sign (unless sp ignores quantities), a
// valid amount, a tier that fits the key and the unique attribute that sp counts. It sets p's fixed-point
// quantity (at the item's precision) and amount on the way.
func checkEvent(it *events.Item, sp *foldSpec, e *events.Event, p *prepared) *events.Rejection {
	if t := e.Data.Tier; t < 0 || t > math.MaxInt32 {
		return reject(events.ReasonBadTier, "data.tier", "tier %d is out of range", t)
	}
	if sp.kind != aggCount {
		if r := checkQuantity(it, &e.Data.Quantity, &p.q); r != nil {
			return r
		}
	}
	if a := e.Data.Amount; a != nil {
		if r := checkAmount(it, a, &p.amt); r != nil {
			return r
		}
	}
	if sp.kind == aggUnique && e.Data.Attributes[sp.attr] == "" {
		return reject(events.ReasonMissingAttribute, "data.attributes."+sp.attr,
			"item %s counts distinct values of attribute %q", it.MPN, sp.attr)
	}
	return nil
}

// checkQuantity checks q's sign and decimals and converts it to n at the item's precision: a quantity that
// converts has at most that many decimals; one that does not is either beyond them or too large for the fixed
// point (then folded as a Decimal).
func checkQuantity(it *events.Item, q *events.Decimal, n *fixedNum) *events.Rejection {
	*n = fixedOf(q, int(it.Precision))
	if (n.ok && n.v < 0 || !n.ok && q.Sign() < 0) && !it.AllowNegative {
		return reject(events.ReasonBadQuantity, "data.quantity", "quantity %s is negative and item %s does not allow it", q, it.MPN)
	}
	if n.ok {
		return nil
	}
	if sc := q.Scale(); sc > int(it.Precision) {
		return reject(events.ReasonBadQuantity, "data.quantity", "quantity %s has %d decimals, item %s allows %s", q, sc, it.MPN, it.Precision)
	}
	return nil
}

// checkAmount is checkQuantity for an amount, at events.AmountPrecision.
func checkAmount(it *events.Item, a *events.Decimal, n *fixedNum) *events.Rejection {
	*n = fixedOf(a, events.AmountPrecision)
	if (n.ok && n.v < 0 || !n.ok && a.Sign() < 0) && !it.AllowNegative {
		return reject(events.ReasonBadAmount, "data.amount", "amount %s is negative and item %s does not allow it", a, it.MPN)
	}
	if n.ok {
		return nil
	}
	if sc := a.Scale(); sc > events.AmountPrecision {
		return reject(events.ReasonBadAmount, "data.amount", "amount %s has %d decimals, the limit is %d", a, sc, events.AmountPrecision)
	}
	return nil
}

// periodOf returns the product's period containing t (start and end in Unix nanoseconds), through a
// one-period cache.
func periodOf(ps *prodState, t time.Time) (int64, int64, *events.Rejection) {
	if tn := t.UnixNano(); tn < ps.curStart || tn >= ps.curEnd {
		pd := ps.p.Period.Containing(t)
		if pd.IsZero() {
			return 0, 0, reject(events.ReasonUnknownProduct, "data.product", "product %s has no valid period", ps.id)
		}
		ps.cur, ps.curStart, ps.curEnd = pd, pd.Start.UnixNano(), pd.End.UnixNano()
	}
	return ps.curStart, ps.curEnd, nil
}

// bucketOf returns the bucket of the product's period [start, end), creating it: open if the period has not
// closed yet, closed (for adjustments) if it has but is younger than the max event age.
func (s *State) bucketOf(ps *prodState, start, end int64) (*bucket, *events.Rejection) {
	if b := ps.curB; b != nil && b.start == start {
		return b, nil
	}
	b := s.buckets[bucketKey{ps, start}]
	if b == nil {
		pd := ps.cur
		if ps.curStart != start {
			pd = events.Period{Start: unixTime(start), End: unixTime(end)}
		}
		b = &bucket{prod: ps, period: pd, start: start, due: end + int64(ps.p.AllowedLateness), expire: end + int64(ps.p.MaxEventAge)}
		if s.clock >= b.expire {
			return nil, reject(events.ReasonTooLate, "time", "period %s of product %s is older than the max event age %v",
				b.period, ps.id, ps.p.MaxEventAge)
		}
		s.addBucket(b)
	}
	ps.curB = b
	return b, nil
}

func (s *State) addBucket(b *bucket) {
	b.closed = s.clock >= b.due
	s.buckets[bucketKey{b.prod, b.start}] = b
	if b.closed {
		s.nextDue = min(s.nextDue, b.expire)
	} else {
		s.nextOut = min(s.nextOut, b.due)
		s.nextDue = min(s.nextDue, b.due)
	}
}

// newAcc adds the aggregate of key k (hash h), folding with spec, to b. It keeps copies of the event's strings:
// a decoded event's strings may be substrings of its whole packet.
func (s *State) newAcc(b *bucket, k *keyID, h uint64, spec uint32, e *events.Event) int32 {
	idx := s.slab.alloc()
	a := s.slab.at(idx)
	a.key, a.spec = *k, spec
	a.key.sub = strings.Clone(k.sub)
	a.market = s.marketID(e.Data.Marketplace)
	s.insert(h, idx)
	b.keys = append(b.keys, idx)
	return idx
}
