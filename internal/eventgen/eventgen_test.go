package eventgen_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// testCatalog has every schema, precision and aggregation a generated event must fit.
const testCatalog = `products:
  - id: PRD-100-000-001
    name: Quantities
    schema: QT
    currency: USD
    contracts: [CRD-00000-00001]
    marketplaces: [MP-00001, MP-00002]
    period: {kind: fixed, every: 1m}
    allowed_lateness: 10s
    items:
      - {mpn: SUM-4, name: s4, unit: u, precision: decimal(4), aggregation: sum}
      - {mpn: COUNT, name: c, unit: u, precision: integer, aggregation: count}
      - {mpn: MAX-2, name: m2, unit: u, precision: decimal(2), aggregation: max}
      - {mpn: SUM-8, name: s8, unit: u, precision: decimal(8), aggregation: sum}
  - id: PRD-100-000-002
    name: Tiers
    schema: TR
    currency: EUR
    contracts: [CRD-00000-00002]
    period: {kind: daily}
    allowed_lateness: 1h
    items:
      - {mpn: LAST, name: l, unit: u, precision: integer, aggregation: last}
      - {mpn: MIN-1, name: m1, unit: u, precision: decimal(1), aggregation: min}
  - id: PRD-100-000-003
    name: Amounts
    schema: CR
    currency: AUD
    contracts: [CRD-00000-00003]
    period: {kind: monthly}
    allowed_lateness: 1h
    items:
      - {mpn: USERS, name: u, unit: u, precision: integer, aggregation: unique_count, unique_attribute: user_id}
  - id: PRD-100-000-004
    name: Prices
    schema: PR
    currency: USD
    contracts: [CRD-00000-00004]
    period: {kind: monthly}
    allowed_lateness: 1h
    items:
      - {mpn: SPEND, name: s, unit: u, precision: decimal(2), aggregation: sum}
`

func meters(t *testing.T) (*events.Catalog, []eventgen.Meter) {
	t.Helper()
	c, err := events.ParseCatalog([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	ms := eventgen.Meters(c, func(p *events.Product) []string {
		return []string{eventgen.Subscription(1), eventgen.Subscription(123_456_789_012)}
	})
	return c, ms
}

// Every generated event of every meter is valid for the catalog at its time, survives its own encoding, and
// has the shape the model promises.
func TestEveryEventIsValidForTheCatalog(t *testing.T) {
	c, ms := meters(t)
	if want := 2 * (4 + 2 + 1 + 1); len(ms) != want {
		t.Fatalf("meters: want %d, have %d", want, len(ms))
	}
	now := time.Now()
	g := eventgen.New(eventgen.Options{Seed: 3, IDPrefix: "t-", Labels: func(n int) map[string]string {
		return map[string]string{"host": "node-" + strconv.Itoa(n%3)}
	}})
	var evs []events.Event
	for i := range 40 {
		for _, m := range ms {
			e := g.Event(m, now.Add(-time.Duration(i)*time.Second))
			if rej := c.Validate(&e, now); rej != nil {
				t.Fatalf("%s %s: %+v rejected: %v", m.Product.ID, m.Item.MPN, e, rej)
			}
			checkShape(t, m, e)
			evs = append(evs, e)
		}
	}
	body := string(eventgen.AppendBatch(nil, evs))
	i := 0
	err := events.DecodeBatchString(body, len(evs), func(j int, e events.Event, rej *events.Rejection) {
		if rej != nil || !reflect.DeepEqual(e, evs[j]) {
			t.Errorf("event %d after encoding: %+v, %v; want %+v", j, e, rej, evs[j])
		}
		i++
	})
	if err != nil || i != len(evs) {
		t.Fatalf("decoding the batch: %v, %d events of %d", err, i, len(evs))
	}
}

func checkShape(t *testing.T, m eventgen.Meter, e events.Event) {
	t.Helper()
	if e.Subject != m.Subject || e.Data.Item != m.Item.MPN || !strings.HasPrefix(e.ID, "t-") || e.Data.Attributes["host"] == "" {
		t.Errorf("%+v is not an event of %+v", e, m)
	}
	if (m.Product.Schema == events.SchemaTR) != (e.Data.Tier > 0) || m.Product.Schema.RequiresAmount() != (e.Data.Amount != nil) {
		t.Errorf("%s: tier %d, amount %v", m.Product.Schema, e.Data.Tier, e.Data.Amount)
	}
	if len(m.Product.Marketplaces) > 0 && e.Data.Marketplace == "" {
		t.Errorf("%s sells in %v: no marketplace", m.Product.ID, m.Product.Marketplaces)
	}
	if m.Item.Aggregation == events.AggregationCount && !e.Data.Quantity.Equal(events.DecimalFromInt(1)) {
		t.Errorf("count item %s: quantity %v, want 1", m.Item.MPN, e.Data.Quantity)
	}
}

func TestTheSameSeedGivesTheSameEvents(t *testing.T) {
	_, ms := meters(t)
	at := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	draw := func(seed uint64) []events.Event {
		g := eventgen.New(eventgen.Options{Seed: seed})
		var evs []events.Event
		for i := range 200 {
			evs = append(evs, g.Event(ms[g.Rand().IntN(len(ms))], at.Add(time.Duration(i)*time.Millisecond)))
		}
		return evs
	}
	a, b, c := draw(1), draw(1), draw(2)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generators of one seed drew different events")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("generators of two seeds drew the same events")
	}
	ids := map[string]bool{}
	for _, e := range a {
		if ids[e.ID] {
			t.Fatalf("id %s drawn twice", e.ID)
		}
		ids[e.ID] = true
	}
}
