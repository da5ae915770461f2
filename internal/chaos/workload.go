package chaos

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Workload is the events of a run and when each is sent.
type Workload struct {
	Start  time.Time      // the run's time origin: sends are planned relative to it, periods align to it
	Events []events.Event // the unique events, in planned order
	Sends  []Send         // every send, duplicates included, ordered by At
	Late   int            // events timed in a period that has closed when they are planned to be sent
	Resent int            // events sent twice on purpose
	Held   int            // events of the held-back product (Config.DeadLetters): rejected and kept at first
	// HeldProduct is the held-back product ("" without dead letters).
	HeldProduct string
}

// Send is one planned transmission of an event.
type Send struct {
	At    time.Duration // after Workload.Start
	Event int           // index in Workload.Events
}

// Shape of the generated times.
const (
	maxJitter    = 2 * time.Second // events are timed up to this much before they are sent (out of order)
	maxLateExtra = 3 * time.Second // a late event is timed this much (at most) before its period's close, unless LateMax says more
	maxResend    = 6 * time.Second // a duplicate is sent again within this delay
	minResend    = 200 * time.Millisecond
	sourceCount  = 8  // distinct CloudEvents sources (meters)
	users        = 40 // distinct users of a unique_count item
)

// backdate is how far before the run's start the earliest event can be timed: the jitter, and LateMax (late
// events are only planned once lateFrom has passed, so none is timed earlier). The run starts at least that
// long after the event stream was created, so that every event's period closes after it (the aggregators
// mark periods from then on).
func backdate(cfg Config) time.Duration { return maxJitter + cfg.LateMax }

// lateExtra bounds how far before its period's close a late event of p is timed: maxLateExtra, or what
// Config.LateMax leaves beyond the period and its lateness.
func lateExtra(cfg Config, p product) time.Duration {
	return max(maxLateExtra, cfg.LateMax-p.every-p.lateness)
}

// lateFrom is how long after the start a late event of p can be planned: its time is then no earlier than
// the start minus the backdate. With LateMax, that is at once (or nearly): the periods before the start are
// closed by the aggregators' ticks with no record, and their late events make supplements without a base.
func lateFrom(cfg Config, p product) time.Duration {
	return max(0, p.every+p.lateness+lateExtra(cfg, p)+maxJitter-cfg.LateMax)
}

// generator draws a workload from a seeded source: when and what to send is its own, each event's content
// internal/eventgen's.
type generator struct {
	cfg    Config
	ps     []product
	held   *product           // nil without dead letters
	meters [][]eventgen.Meter // by product and item, without the subject; the held-back product's last
	rng    *rand.Rand
	gen    *eventgen.Generator
	w      Workload
}

// newWorkload generates the workload of cfg (with defaults) starting at start, with the products ps of the
// catalog cat; with held (which cat must define too), a share of the events are for that product.
func newWorkload(cfg Config, cat *events.Catalog, ps []product, held *product, start time.Time) *Workload {
	all := ps
	if held != nil {
		all = append(slices.Clone(ps), *held)
	}
	g := &generator{cfg: cfg, ps: ps, held: held, meters: productMeters(cat, all), rng: rand.New(rand.NewPCG(cfg.Seed, 0x776f726b6c6f6164)),
		gen: eventgen.New(eventgen.Options{Seed: cfg.Seed, IDPrefix: "chaos-" + strconv.FormatUint(cfg.Seed, 10) + "-", Users: users})}
	g.w.Start = start
	if held != nil {
		g.w.HeldProduct = held.id
	}
	g.w.Events = make([]events.Event, cfg.Events)
	g.w.Sends = make([]Send, 0, cfg.Events+int(float64(cfg.Events)*cfg.DuplicateShare)+1)
	for i := range cfg.Events {
		at := time.Duration(int64(i) * int64(cfg.Duration) / int64(cfg.Events))
		g.w.Events[i] = g.event(i, at)
		g.w.Sends = append(g.w.Sends, Send{At: at, Event: i})
		if g.rng.Float64() < cfg.DuplicateShare {
			again := at + minResend + time.Duration(g.rng.Int64N(int64(maxResend-minResend)))
			g.w.Sends = append(g.w.Sends, Send{At: again, Event: i})
			g.w.Resent++
		}
	}
	slices.SortStableFunc(g.w.Sends, func(a, b Send) int { return int(a.At - b.At) })
	return &g.w
}

// productMeters are the meters of every item of ps, by product and item, as cat defines them.
func productMeters(cat *events.Catalog, ps []product) [][]eventgen.Meter {
	ms := make([][]eventgen.Meter, len(ps))
	for i, p := range ps {
		cp, ok := cat.Product(p.id)
		if !ok {
			panic("chaos: product " + p.id + " is not in the run's catalog")
		}
		for j := range cp.Items {
			ms[i] = append(ms[i], eventgen.Meter{Product: cp, Item: &cp.Items[j]})
		}
	}
	return ms
}

// event draws event i, planned to be sent at offset at.
func (g *generator) event(i int, at time.Duration) events.Event {
	s := g.rng.IntN(g.cfg.Subscriptions)
	p, meters, sub := g.ps[s%len(g.ps)], g.meters[s%len(g.ps)], subscription(s, len(g.ps))
	if g.held != nil && g.rng.Float64() < heldShare {
		k := g.rng.IntN(heldSubscriptions)
		p, meters, sub = *g.held, g.meters[len(g.ps)], heldSubscription(k)
		g.w.Held++
	}
	m := meters[g.rng.IntN(len(p.items))]
	m.Subject = sub
	t := g.w.Start.Add(at - time.Duration(g.rng.Int64N(int64(maxJitter))))
	late, extra := g.rng.Float64() < g.cfg.LateShare, time.Duration(g.rng.Int64N(int64(lateExtra(g.cfg, p))))
	if late && at >= lateFrom(g.cfg, p) {
		t = t.Add(-(p.every + p.lateness + extra))
		g.w.Late++
	}
	// The index in the nanoseconds keeps event times unique, so "last" never depends on arrival order.
	e := g.gen.Event(m, t.Truncate(time.Millisecond).Add(time.Duration(i%maxEvents)))
	e.Source = "/chaos/meter-" + strconv.Itoa(s%sourceCount)
	return e
}
