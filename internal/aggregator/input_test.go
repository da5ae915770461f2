package aggregator

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// input publishes a deterministic-by-seed, wall-clock-paced stream: rounds of events over a set of
// subscriptions, with resent duplicates, late events, unknown items, undecodable packets and ticks. It keeps
// the expected UNITS total per subscription (every distinct valid event once).
type input struct {
	env     *testEnv
	created time.Time // of USAGE_EVENTS: late events must be of periods that closed after it
	rng     *rand.Rand
	subs    []string
	sent    []events.Event
	want    map[string]events.Decimal
	n       int
}

func newInput(env *testEnv, seed uint64, subscriptions int) *input {
	in := &input{env: env, created: env.created(), rng: rand.New(rand.NewPCG(seed, 1)), want: map[string]events.Decimal{}}
	for i := range subscriptions {
		in.subs = append(in.subs, fmt.Sprintf("AS-%04d", i))
	}
	return in
}

// round publishes round i: about a dozen events, sometimes duplicates, a late event, an unknown item, a bad
// packet, and every third round a tick on every partition.
func (in *input) round(i int) {
	now := time.Now()
	var evs []events.Event
	for range 12 {
		evs = append(evs, in.event(now))
	}
	switch {
	case i%7 == 3 && len(in.sent) > 5:
		for range 5 {
			evs = append(evs, in.sent[in.rng.IntN(len(in.sent))])
		}
	case i%11 == 5 && !now.Add(-2500*time.Millisecond).Before(in.created):
		evs = append(evs, in.event(now.Add(-2500*time.Millisecond)))
	case i%13 == 6:
		in.n++
		evs = append(evs, usageEvent(in.id(), in.subs[0], "NO-SUCH-ITEM", "1", now))
	}
	in.sent = append(in.sent, evs...)
	in.env.publishEvents(evs...)
	if i%17 == 8 {
		in.env.publishRaw(i%in.env.partitions, events.KindEvents, []byte("not a packet\n"))
	}
	if i%3 == 0 {
		in.env.tickAll()
	}
}

// event returns a new valid event at t, counting UNITS quantities into want.
func (in *input) event(t time.Time) events.Event {
	in.n++
	sub := in.subs[in.rng.IntN(len(in.subs))]
	if in.rng.IntN(3) == 0 {
		return usageEvent(in.id(), sub, "PEAK", strconv.Itoa(in.rng.IntN(100)), t)
	}
	q := events.MustDecimal(fmt.Sprintf("%d.%02d", in.rng.IntN(10), in.rng.IntN(100)))
	in.want[sub] = in.want[sub].Add(q)
	return usageEvent(in.id(), sub, "UNITS", q.String(), t)
}

func (in *input) id() string { return "ev-" + strconv.Itoa(in.n) }

// finish waits until every period of the input is due (the wall clock, which stamps the tick, past the
// latest close) and publishes a tick on every partition, so every period closes inside the input.
func (in *input) finish() {
	p, _ := in.env.catalog.Product(testProduct)
	var due time.Time
	for _, e := range in.sent {
		if c := p.CloseAt(p.PeriodOf(e.Time)); c.After(due) {
			due = c
		}
	}
	sleepUntil(due.Add(100 * time.Millisecond))
	in.env.tickAll()
}
