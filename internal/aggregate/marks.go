package aggregate

import (
	"math"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// markCursor is where the marks of one (product, contract) stand.
type markCursor struct {
	contract string
	started  bool
	first    int64         // start of the first period marked, Unix nanoseconds; firstUnknown until started
	next     events.Period // the next period to mark; zero when the product's periods are invalid
}

// firstUnknown is the first period of a cursor not started: no period is before it.
const firstUnknown = math.MinInt64

// startCursors starts every mark cursor not started yet at the earliest period of its product that closes after
// from (Unix nanoseconds), and marks the state's cursors as on.
func (s *State) startCursors(from int64) {
	s.marksOn = true
	for _, ps := range s.markProds {
		for i := range ps.marks {
			if c := &ps.marks[i]; !c.started {
				c.started, c.next = true, firstMarked(ps.p, from)
				if !c.next.IsZero() {
					c.first = c.next.Start.UnixNano()
				}
			}
		}
	}
}

// maxLookBack bounds the walk back from the period containing MarkFrom (a lateness of many periods).
const maxLookBack = 10000

// firstMarked is the earliest period of p that closes after from: the period containing it, or one before
// that the allowed lateness still keeps open.
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

// markDue emits the marks of every period closed by the clock, for each cursor of each product with a
// definition, retired ones and retired contracts included; a period whose bucket is still open (possible only
// after a catalog change of the lateness) waits for it.
func (s *State) markDue(out *Output) {
	from := len(out.Marks)
	for _, ps := range s.markProds {
		for i := range ps.marks {
			s.markCursorDue(ps, &ps.marks[i], out)
		}
	}
	sortMarks(out.Marks[from:])
}

func (s *State) markCursorDue(ps *prodState, c *markCursor, out *Output) {
	for c.started && !c.next.IsZero() && ps.p.CloseAt(c.next).UnixNano() <= s.clock {
		b := s.buckets[bucketKey{ps, c.next.Start.UnixNano()}]
		if b != nil && !b.closed {
			return
		}
		out.Marks = append(out.Marks, events.PartitionMark{
			Product: ps.id, Contract: c.contract, PeriodStart: c.next.Start, PeriodEnd: c.next.End,
			Partition: s.cfg.Partition, Partitions: s.cfg.partitions(), Records: s.recordsOf(b, c.contract),
		})
		c.next = nextPeriod(ps.p, c.next)
	}
}

// nextDueMark is the earliest close of a period some cursor has still to mark, never if none.
func (s *State) nextDueMark() int64 {
	next := int64(never)
	for _, ps := range s.markProds {
		for _, c := range ps.marks {
			if c.started && !c.next.IsZero() {
				next = min(next, ps.p.CloseAt(c.next).UnixNano())
			}
		}
	}
	return next
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
