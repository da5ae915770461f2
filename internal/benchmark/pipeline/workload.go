package pipeline

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// send is one transmission of an event: its identity and content, all derived from the seed.
type send struct {
	seq    uint64 // the event's number; its id is pb-<seed>-<seq>
	time   int64  // event time, Unix nanoseconds
	cents  int64  // quantity in hundredths
	sub    int32  // subscription index
	item   uint8  // index in items
	late   bool   // timed in a period that had closed when the event was planned
	resend bool   // a second transmission of an event sent before
}

// Shape of the generated times.
const (
	maxJitter = 2 * time.Second        // an on-time event is timed up to this much before its send
	lateGuard = time.Second            // a late event's period closed at least this long before its send
	minResend = 200 * time.Millisecond // a duplicate is sent again this long after the original at least...
	maxResend = 6 * time.Second        // ...and at most
)

// generator draws the events of a run: subscriptions by a Zipf law over a fixed random ranking, items by
// their weights, DuplicateShare of the events sent again 0.2–6 s later with the same id and content, and
// LateShare timed in the latest period that has closed. It is deterministic: the same seed, send times and
// batch sizes give the same sends. Not safe for concurrent use.
type generator struct {
	rng       *rand.Rand
	zipf      *rand.Zipf
	rank      []int32 // popularity rank → subscription
	dup, late float64
	spec      events.PeriodSpec
	lateness  time.Duration
	jitter    time.Duration
	notBefore time.Time // a late event's period closes after this (the events stream's creation: else too_old)
	next      uint64
	resends   resendQueue
}

func newGenerator(c Config, spec events.PeriodSpec, notBefore time.Time) *generator {
	rng := rand.New(rand.NewPCG(c.Seed, 0x7069706562656e63))
	g := &generator{rng: rng, zipf: rand.NewZipf(rng, c.ZipfS, c.ZipfV, uint64(c.Subscriptions-1)),
		dup: c.DuplicateShare, late: c.LateShare, spec: spec, lateness: c.Lateness,
		jitter: min(maxJitter, c.Lateness/2), notBefore: notBefore}
	g.rank = make([]int32, c.Subscriptions)
	for i, s := range rng.Perm(c.Subscriptions) {
		g.rank[i] = int32(s)
	}
	return g
}

// batch appends n sends planned for at to out: the resends due by then first, then new events.
func (g *generator) batch(at time.Time, n int, out []send) []send {
	for len(out) < n && len(g.resends) > 0 && g.resends[0].due <= at.UnixNano() {
		s := heap.Pop(&g.resends).(resend).send
		s.resend = true
		out = append(out, s)
	}
	for len(out) < n {
		out = append(out, g.event(at))
	}
	return out
}

// event draws a new event planned for at.
func (g *generator) event(at time.Time) send {
	s := send{seq: g.next, sub: g.rank[g.zipf.Uint64()], item: g.pickItem()}
	g.next++
	it := items[s.item]
	s.cents = 1 + g.rng.Int64N(it.maxCents)
	if it.integer {
		s.cents *= 100
	}
	t := at.Add(-time.Duration(g.rng.Int64N(int64(g.jitter))))
	if g.rng.Float64() < g.late {
		if pd, ok := g.closedPeriod(at); ok {
			t, s.late = pd.Start.Add(time.Duration(g.rng.Int64N(int64(pd.End.Sub(pd.Start))))), true
		}
	}
	s.time = t.Truncate(time.Millisecond).UnixNano()
	if g.rng.Float64() < g.dup {
		due := at.Add(minResend + time.Duration(g.rng.Int64N(int64(maxResend-minResend))))
		heap.Push(&g.resends, resend{due: due.UnixNano(), send: s})
	}
	return s
}

func (g *generator) pickItem() uint8 {
	x := g.rng.Float64()
	for i, it := range items {
		if x < it.weight {
			return uint8(i)
		}
		x -= it.weight
	}
	return uint8(len(items) - 1)
}

// closedPeriod is the latest period that closed (end + lateness) lateGuard before at, if it closed after
// notBefore.
func (g *generator) closedPeriod(at time.Time) (events.Period, bool) {
	// The period containing the latest possible end ends after it: the one before it is the one.
	containing := g.spec.Containing(at.Add(-lateGuard - g.lateness))
	pd := g.spec.Containing(containing.Start.Add(-time.Nanosecond))
	return pd, pd.End.Add(g.lateness).After(g.notBefore.Add(lateGuard))
}

// resend is a duplicate waiting for its send time.
type resend struct {
	due  int64
	send send
}

// resendQueue is a min-heap of resends by due time.
type resendQueue []resend

func (q resendQueue) Len() int           { return len(q) }
func (q resendQueue) Less(i, j int) bool { return q[i].due < q[j].due }
func (q resendQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *resendQueue) Push(x any)        { *q = append(*q, x.(resend)) }
func (q *resendQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
