package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

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
	sourceCount  = 8 // distinct CloudEvents sources (meters)
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

// generator draws a workload from a seeded source.
type generator struct {
	cfg  Config
	ps   []product
	held *product // nil without dead letters
	rng  *rand.Rand
	w    Workload
}

// newWorkload generates the workload of cfg (with defaults) starting at start; with held, a share of the
// events are for that product.
func newWorkload(cfg Config, ps []product, held *product, start time.Time) *Workload {
	g := &generator{cfg: cfg, ps: ps, held: held, rng: rand.New(rand.NewPCG(cfg.Seed, 0x776f726b6c6f6164))}
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

// event draws event i, planned to be sent at offset at.
func (g *generator) event(i int, at time.Duration) events.Event {
	s := g.rng.IntN(g.cfg.Subscriptions)
	p, sub := g.ps[s%len(g.ps)], subscription(s, len(g.ps))
	if g.held != nil && g.rng.Float64() < heldShare {
		k := g.rng.IntN(heldSubscriptions)
		p, sub = *g.held, heldSubscription(k)
		g.w.Held++
	}
	it := p.items[g.rng.IntN(len(p.items))]
	t := g.w.Start.Add(at - time.Duration(g.rng.Int64N(int64(maxJitter))))
	late, extra := g.rng.Float64() < g.cfg.LateShare, time.Duration(g.rng.Int64N(int64(lateExtra(g.cfg, p))))
	if late && at >= lateFrom(g.cfg, p) {
		t = t.Add(-(p.every + p.lateness + extra))
		g.w.Late++
	}
	// The index in the nanoseconds keeps event times unique, so "last" never depends on arrival order.
	t = t.Truncate(time.Millisecond).Add(time.Duration(i % maxEvents)).UTC()
	e := events.Event{
		SpecVersion: events.SpecVersion, ID: fmt.Sprintf("chaos-%d-%07d", g.cfg.Seed, i),
		Source: "/chaos/meter-" + strconv.Itoa(s%sourceCount), Type: events.EventType,
		Subject: sub, Time: t,
		Data: events.Usage{Product: p.id, Item: it.mpn, Quantity: g.quantity(it)},
	}
	g.decorate(&e, p, it)
	return e
}

// quantity draws a quantity that fits the item's precision.
func (g *generator) quantity(it itemTemplate) events.Decimal {
	switch it.agg {
	case events.AggregationCount, events.AggregationUniqueCount:
		return events.DecimalFromInt(1)
	case events.AggregationSum:
		return decimalText(fmt.Sprintf("%d.%04d", g.rng.IntN(100), g.rng.IntN(10000)))
	case events.AggregationMax:
		return decimalText(fmt.Sprintf("%d.%02d", g.rng.IntN(1000), g.rng.IntN(100)))
	default:
		return events.DecimalFromInt(1 + g.rng.Int64N(1000))
	}
}

// decorate adds the tier, amount and attributes the product's schema and the item ask for.
func (g *generator) decorate(e *events.Event, p product, it itemTemplate) {
	if p.schema == events.SchemaTR {
		e.Data.Tier = 1 + g.rng.IntN(tiers)
	}
	if p.schema.RequiresAmount() {
		a := decimalText(fmt.Sprintf("%d.%02d", g.rng.IntN(100), g.rng.IntN(100)))
		e.Data.Amount = &a
	}
	if it.unique != "" {
		e.Data.Attributes = map[string]string{it.unique: "user-" + strconv.Itoa(g.rng.IntN(40))}
	}
}

// decimalText parses text the generator formatted itself.
func decimalText(s string) events.Decimal {
	d, err := events.ParseDecimal(s)
	if err != nil {
		panic("chaos: generated a bad decimal: " + err.Error())
	}
	return d
}
