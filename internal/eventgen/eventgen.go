package eventgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Meter is one thing a producer measures: an item of a product, for one subscription.
type Meter struct {
	Product *events.Product
	Item    *events.Item
	Subject string // the subscription: an asset id AS-… or the vendor's external id
}

// Meters lists every item of every product of c for each of the product's subscriptions (subscriptions(p)),
// in catalog order: product by product, subscription by subscription, item by item.
func Meters(c *events.Catalog, subscriptions func(p *events.Product) []string) []Meter {
	var ms []Meter
	for i := range c.Products {
		p := &c.Products[i]
		for _, sub := range subscriptions(p) {
			for j := range p.Items {
				ms = append(ms, Meter{Product: p, Item: &p.Items[j], Subject: sub})
			}
		}
	}
	return ms
}

// Defaults of Options.
const (
	DefaultUsers    = 12             // distinct values of a unique_count item's attribute
	defaultSeedMix  = 0x6576656e7467 // the second word of the PCG seed ("eventg")
	maxAmountCents4 = 2_000_000      // amounts are drawn up to 200.0000
)

// Options configures a [Generator]. Zero fields take the defaults.
type Options struct {
	Seed uint64
	// IDPrefix starts every event id; a sequence number (from 1, at least 8 digits) ends it, so the ids of
	// one generator are unique.
	IDPrefix string
	// Source is the CloudEvents source of the nth event (from 1), of meter m (nil: "/eventgen/" and the
	// product id in lower case).
	Source func(m Meter, n int) string
	// Users is how many distinct values a unique_count item's attribute takes (default DefaultUsers).
	Users int
	// Labels are more data attributes of the nth event, such as a producer's host and region (nil: none).
	Labels func(n int) map[string]string
	// Quantity draws the quantity of an event of m from rng (nil: with every decimal the item allows, 1 for a
	// count item); a scenario whose meters report whole numbers says so here.
	Quantity func(m Meter, rng *rand.Rand) events.Decimal
}

// Generator draws usage events; see the package doc.
type Generator struct {
	opts Options
	rng  *rand.Rand
	n    int
}

// New returns a generator drawing from o.Seed.
func New(o Options) *Generator {
	if o.Users <= 0 {
		o.Users = DefaultUsers
	}
	if o.Source == nil {
		o.Source = func(m Meter, _ int) string { return "/eventgen/" + strings.ToLower(m.Product.ID) }
	}
	return &Generator{opts: o, rng: rand.New(rand.NewPCG(o.Seed, defaultSeedMix))}
}

// Rand is the generator's random source, for the caller's own draws (which meter, when), so that they too
// derive from the seed.
func (g *Generator) Rand() *rand.Rand { return g.rng }

// Event draws the next event of m at t (stored in UTC).
func (g *Generator) Event(m Meter, t time.Time) events.Event {
	g.n++
	e := events.Event{
		SpecVersion: events.SpecVersion, ID: g.opts.IDPrefix + fmt.Sprintf("%08d", g.n), Source: g.opts.Source(m, g.n),
		Type: events.EventType, Subject: m.Subject, Time: t.UTC(),
		Data: events.Usage{Product: m.Product.ID, Item: m.Item.MPN},
	}
	if g.opts.Quantity != nil {
		e.Data.Quantity = g.opts.Quantity(m, g.rng)
	} else {
		e.Data.Quantity = g.quantity(m.Item)
	}
	if m.Product.Schema == events.SchemaTR {
		e.Data.Tier = 1 + g.rng.IntN(3)
	}
	if m.Product.Schema.RequiresAmount() {
		a := events.DecimalFromFixed(1+g.rng.Int64N(maxAmountCents4), 4)
		e.Data.Amount = &a
	}
	if ms := m.Product.Marketplaces; len(ms) > 0 {
		e.Data.Marketplace = ms[g.rng.IntN(len(ms))]
	}
	e.Data.Attributes = g.attributes(m.Item)
	return e
}

// quantity is 1 for a count item, a small whole number for an integer item, and otherwise a value with all
// the decimals the item allows.
func (g *Generator) quantity(it *events.Item) events.Decimal {
	places := int(it.Precision)
	switch {
	case it.Aggregation == events.AggregationCount:
		return events.DecimalFromInt(1)
	case places == 0:
		return events.DecimalFromInt(1 + g.rng.Int64N(20))
	default:
		scale := int64(1)
		for range places {
			scale *= 10
		}
		return events.DecimalFromFixed(1+g.rng.Int64N(50*scale), places)
	}
}

// attributes are the labels of the event and the attribute a unique_count item counts (nil: none).
func (g *Generator) attributes(it *events.Item) map[string]string {
	var attrs map[string]string
	if g.opts.Labels != nil {
		attrs = g.opts.Labels(g.n)
	}
	if a := it.UniqueAttribute; a != "" {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[a] = "user-" + fmt.Sprintf("%02d", g.rng.IntN(g.opts.Users))
	}
	return attrs
}

// AppendBatch appends evs to b as one request body, as a producer posts it: a JSON array
// (application/cloudevents-batch+json) of the events in their canonical encoding ([events.Event.MarshalJSON]).
func AppendBatch(b []byte, evs []events.Event) []byte {
	b = append(b, '[')
	for i := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = evs[i].AppendJSON(b); err != nil {
			panic("eventgen: encoding an event: " + err.Error()) // only a time outside years 0-9999
		}
	}
	return append(b, ']')
}

// Bodies draws count request bodies of n events each ([AppendBatch]): event i (from 0, over all bodies) is
// of meter ms[i mod len(ms)], at at(i).
func (g *Generator) Bodies(ms []Meter, count, n int, at func(i int) time.Time) [][]byte {
	bodies := make([][]byte, count)
	evs := make([]events.Event, n)
	for b := range bodies {
		for j := range evs {
			i := b*n + j
			evs[j] = g.Event(ms[i%len(ms)], at(i))
		}
		bodies[b] = AppendBatch(nil, evs)
	}
	return bodies
}

// Subscription is a Connect asset id made of i: AS-<i/10⁸ mod 10⁴>-<i/10⁴ mod 10⁴>-<i mod 10⁴>, distinct for
// every i below 10¹² (a scenario's subscriptions without a Connect catalog of its own).
func Subscription(i int) string {
	return "AS-" + pad4(i/100_000_000) + "-" + pad4(i/10_000) + "-" + pad4(i)
}

func pad4(n int) string {
	s := strconv.Itoa(n % 10_000)
	return strings.Repeat("0", 4-len(s)) + s
}

// Fleet shapes the events of a fleet of metering collectors, as `usagepipe bench ingest` and ingest's CPU
// benchmark send them: eight collectors as sources, each event labelled with its region and one of 50 hosts.
func Fleet(o Options) Options {
	o.Source = func(_ Meter, n int) string { return "https://metering.example.com/collectors/" + strconv.Itoa(n%8) }
	o.Labels = func(n int) map[string]string {
		return map[string]string{"region": "eu-west-1", "host": "node-" + strconv.Itoa(n%50)}
	}
	return o
}
