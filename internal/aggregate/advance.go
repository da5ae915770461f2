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
		s.startCursors(s.clock)
		s.recompute()
	}
	s.ids.advance(s.clock)
	if s.clock >= s.seriesDue {
		s.expireSeries()
	}
	if s.clock >= s.nextDue {
		s.closeDue(out)
		s.markDue(out)
		s.expireDue()
		s.recompute()
	}
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
	s.nextOut = min(s.nextOut, s.nextDueMark())
	s.nextDue = min(s.nextDue, s.nextOut)
}
