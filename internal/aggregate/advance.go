package aggregate

import (
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Advance applies a source message that carries no events (a tick): the clock moves to arrival (never
// backwards) and every period due by then closes. A message whose seq is not above LastSeq is ignored.
func (s *State) Advance(seq uint64, arrival time.Time, out *Output) {
	if !s.accept(seq) {
		return
	}
	s.tick(arrival, out)
}

// accept records seq as applied, refusing a sequence already applied.
func (s *State) accept(seq uint64) bool {
	if seq <= s.lastSeq {
		return false
	}
	s.lastSeq = seq
	return true
}

func (s *State) tick(arrival time.Time, out *Output) {
	now := arrival.UnixNano()
	if !s.clockSet || now > s.clock {
		s.clock, s.clockSet = now, true
	}
	if !s.marksOn {
		s.startMarks(s.clock)
		s.recompute()
	}
	s.ids.advance(s.clock)
	if s.clock >= s.nextDue {
		s.closeDue(out)
		s.markDue(out)
		s.expireDue()
		s.recompute()
	}
}

// startMarks points every product's mark cursor at its earliest period that closes after from.
func (s *State) startMarks(from int64) {
	s.marksOn = true
	for _, ps := range s.catalogProds {
		for ci := range ps.marks {
			ps.marks[ci] = firstMarked(ps.p, from)
		}
	}
}

// maxLookBack bounds the walk back from the period containing MarkFrom (a lateness of many periods).
const maxLookBack = 10000

func firstMarked(p *events.Product, from int64) events.Period {
	t := time.Unix(0, from).UTC()
	pd := p.Period.Containing(t)
	for i := 0; i < maxLookBack && !pd.IsZero(); i++ {
		prev := p.Period.Containing(pd.Start.Add(-time.Nanosecond))
		if prev.IsZero() || !p.CloseAt(prev).After(t) {
			break
		}
		pd = prev
	}
	return pd
}

// closeDue closes every open period due by the clock, emitting its records in record order, then the trace
// contexts of their events.
func (s *State) closeDue(out *Output) {
	s.refs = s.refs[:0]
	var closing []*bucket
	for _, b := range s.buckets {
		if !b.closed && b.due <= s.clock {
			b.closed = true
			for _, idx := range b.keys {
				s.refs = append(s.refs, keyRef{idx, b})
			}
			if len(b.traces) > 0 {
				closing = append(closing, b)
			}
		}
	}
	emitTraces(closing, out)
	slices.SortFunc(s.refs, func(x, y keyRef) int {
		return s.compareKeys(&s.slab.at(x.idx).key, &s.slab.at(y.idx).key)
	})
	for _, r := range s.refs {
		a := s.slab.at(r.idx)
		out.Closed = append(out.Closed, s.closedRecord(a, r.b))
		a.flags |= flagRecord
		a.digest = events.Digest{}
	}
}

// keyRef is an aggregate and its bucket.
type keyRef struct {
	idx int32
	b   *bucket
}

// markDue emits the marks of every period closed by the clock, for each product and contract of the catalog;
// a period whose bucket is still open (possible only after a catalog change of the lateness) waits for it.
func (s *State) markDue(out *Output) {
	from := len(out.Marks)
	for _, ps := range s.catalogProds {
		for ci, contract := range ps.p.Contracts {
			pd := &ps.marks[ci]
			for !pd.IsZero() && ps.p.CloseAt(*pd).UnixNano() <= s.clock {
				b := s.buckets[bucketKey{ps, pd.Start.UnixNano()}]
				if b != nil && !b.closed {
					break
				}
				out.Marks = append(out.Marks, events.PartitionMark{
					Product: ps.id, Contract: contract, PeriodStart: pd.Start, PeriodEnd: pd.End,
					Partition: s.cfg.Partition, Partitions: s.cfg.partitions(), Records: s.recordsOf(b, contract),
				})
				*pd = nextPeriod(ps.p, *pd)
			}
		}
	}
	sortMarks(out.Marks[from:])
}

func nextPeriod(p *events.Product, pd events.Period) events.Period {
	next := p.Period.Next(pd)
	if !next.Start.After(pd.Start) {
		return events.Period{}
	}
	return next
}

// recordsOf counts the closed records of contract in b.
func (s *State) recordsOf(b *bucket, contract string) int {
	if b == nil {
		return 0
	}
	n := 0
	for _, idx := range b.keys {
		a := s.slab.at(idx)
		if a.flags&flagRecord != 0 && s.meters[a.key.meter].contract == contract {
			n++
		}
	}
	return n
}

// expireDue forgets the closed periods whose max event age has passed.
func (s *State) expireDue() {
	for k, b := range s.buckets {
		if !b.closed || b.expire > s.clock {
			continue
		}
		for _, idx := range b.keys {
			s.remove(&s.slab.at(idx).key)
			s.slab.release(idx)
		}
		delete(s.buckets, k)
		if b.prod.curB == b {
			b.prod.curB = nil
		}
	}
	s.shrinkIndex()
}

// recompute sets nextDue and nextOut from the buckets and mark cursors.
func (s *State) recompute() {
	s.nextDue, s.nextOut = never, never
	for _, b := range s.buckets {
		if b.closed {
			s.nextDue = min(s.nextDue, b.expire)
		} else {
			s.nextOut = min(s.nextOut, b.due)
		}
	}
	for _, ps := range s.catalogProds {
		for _, pd := range ps.marks {
			if !pd.IsZero() {
				s.nextOut = min(s.nextOut, ps.p.CloseAt(pd).UnixNano())
			}
		}
	}
	s.nextDue = min(s.nextDue, s.nextOut)
}
