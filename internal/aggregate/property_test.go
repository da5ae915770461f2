package aggregate

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// propBase is the creation time of the property streams (MarkFrom): events fall within 8 hours of it, across
// the month boundaries of PRD-MON (Dec 1 in New York, 05:00 UTC) and PRD-CUT (Dec 1 in Kolkata, Nov 30 18:30
// UTC; its lateness of 6h makes its November period close after propBase).
var propBase = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// propMonthly are the test catalog's extra products: monthly and monthly cut-off periods in non-UTC zones.
const propMonthly = `
  - id: PRD-MON
    schema: QT
    currency: USD
    contracts: [CRD-M]
    time_zone: America/New_York
    period: {kind: monthly}
    allowed_lateness: 2h
    items:
      - {mpn: UNITS, precision: decimal(2), aggregation: sum}
      - {mpn: PEAK, precision: integer, aggregation: max}
  - id: PRD-CUT
    schema: QT
    currency: USD
    contracts: [CRD-C]
    time_zone: Asia/Kolkata
    period: {kind: monthly_cutoff, cutoff_day: 1}
    allowed_lateness: 6h
    items:
      - {mpn: SEATS, precision: integer, aggregation: last}
`

// propAdded is what the catalog change of the property streams adds: a product, an item and a contract.
const propAdded = `
  - id: PRD-NEW
    schema: QT
    currency: USD
    contracts: [CRD-N]
    time_zone: Europe/Madrid
    period: {kind: daily}
    allowed_lateness: 20m
    max_event_age: 48h
    items:
      - {mpn: X, precision: integer, aggregation: sum}
`

// propCatalogs returns the catalog of the property streams and the one they switch to.
func propCatalogs(t *testing.T) (*events.Catalog, *events.Catalog) {
	base := readFile(t, "testdata/catalog.yaml") + propMonthly
	added := strings.Replace(base, "contracts: [CRD-B1, CRD-B2]", "contracts: [CRD-B1, CRD-B2, CRD-B3]", 1)
	added = strings.Replace(added, "      - {mpn: UNQ,", "      - {mpn: ADD, precision: decimal(2), aggregation: min}\n      - {mpn: UNQ,", 1)
	return parseCatalog(t, base), parseCatalog(t, added+propAdded)
}

// meterSpec is an item of the property catalogs as the stream generator sees it; added ones exist only in the
// catalog switched to.
type meterSpec struct {
	product, item string
	prec          int
	negative      bool
	added         bool
}

var propMeters = []meterSpec{
	{"PRD-QT", "SUM", 2, false, false}, {"PRD-QT", "NEG", 2, true, false}, {"PRD-QT", "CNT", 0, false, false},
	{"PRD-QT", "MAX", 2, false, false}, {"PRD-QT", "MIN", 2, false, false}, {"PRD-QT", "LAST", 2, false, false},
	{"PRD-QT", "UNQ", 0, false, false}, {"PRD-CR", "COST", 4, false, false}, {"PRD-TR", "MINUTES", 1, false, false},
	{"PRD-MON", "UNITS", 2, false, false}, {"PRD-MON", "PEAK", 0, false, false}, {"PRD-CUT", "SEATS", 0, false, false},
	{"PRD-QT", "ADD", 2, false, true}, {"PRD-NEW", "X", 0, false, true},
}

var propSubs = []string{"AS-1", "AS-2", "AS-3", "AS-4", "AS-5"}

// genEvent is a generated event: whether the fold must accept it catalog-wise (it may still be too late), and
// whether only the catalog switched to has what it names.
type genEvent struct {
	e            events.Event
	valid, added bool
}

func drawEvent(t *rapid.T, i int) genEvent {
	m := rapid.SampledFrom(propMeters).Draw(t, "meter")
	at := propBase.Add(time.Duration(rapid.IntRange(-8*3600, 8*3600).Draw(t, "time")) * time.Second)
	qty := drawQuantity(t, m)
	e := ev("e"+strconv.Itoa(i), rapid.SampledFrom(propSubs).Draw(t, "sub"), m.item, at, qty,
		withSource(rapid.SampledFrom([]string{"s1", "s2"}).Draw(t, "source")))
	e.Data.Product = m.product
	g := genEvent{e: e, valid: true, added: m.added}
	switch m.item {
	case "UNQ":
		g.e.Data.Attributes = map[string]string{"user": rapid.SampledFrom([]string{"u1", "u2", "u3", "u4"}).Draw(t, "user")}
	case "COST":
		a := events.MustDecimal(strconv.Itoa(rapid.IntRange(0, 99).Draw(t, "cents")) + "e-2")
		g.e.Data.Amount = &a
		g.e.Data.Contract = rapid.SampledFrom([]string{"", "CRD-B1", "CRD-B2", "CRD-B3"}).Draw(t, "contract")
		g.added = g.e.Data.Contract == "CRD-B3"
	case "MINUTES":
		g.e.Data.Tier = rapid.IntRange(1, 2).Draw(t, "tier")
	}
	drawFault(t, &g, m, qty)
	return g
}

func drawFault(t *rapid.T, g *genEvent, m meterSpec, qty string) {
	switch rapid.IntRange(0, 19).Draw(t, "fault") {
	case 0:
		g.e.Data.Item, g.valid = "GONE", false
	case 1:
		if m.item != "CNT" {
			g.e.Data.Quantity, g.valid = events.MustDecimal(qty+"0000000001"), false
			if !strings.Contains(qty, ".") {
				g.e.Data.Quantity = events.MustDecimal(qty + ".0000000001")
			}
		}
	case 2:
		if m.item == "UNQ" {
			g.e.Data.Attributes, g.valid = nil, false
		}
	}
}

func drawQuantity(t *rapid.T, m meterSpec) string {
	q := strconv.Itoa(rapid.IntRange(0, 50).Draw(t, "int"))
	if d := rapid.IntRange(0, m.prec).Draw(t, "decimals"); d > 0 {
		q += "." + strings.Repeat("5", d)
	}
	if m.negative && rapid.Bool().Draw(t, "negative") {
		q = "-" + q
	}
	return q
}

// step is one moment of the drawn stream: an arrival and the events that arrive then (none: a tick).
type step struct {
	arrival time.Time
	events  []genEvent
}

// drawSteps returns new events, resent events (duplicates) and ticks, with arrivals that mostly advance
// (sometimes going back a little) so that events come on time, late and too late, then a last tick that
// closes every period, December's monthly ones included.
func drawSteps(t *rapid.T) []step {
	n := rapid.IntRange(1, 60).Draw(t, "events")
	pool := make([]genEvent, n)
	for i := range pool {
		pool[i] = drawEvent(t, i)
	}
	var steps []step
	arrival, next := propBase, 0
	for next < n || rapid.IntRange(0, 3).Draw(t, "more") > 0 {
		arrival = arrival.Add(time.Duration(rapid.IntRange(-5, 50).Draw(t, "step")) * time.Minute)
		if arrival.Before(propBase) { // nothing arrives before the stream exists
			arrival = propBase
		}
		st := step{arrival: arrival}
		if rapid.IntRange(0, 4).Draw(t, "tick") > 0 {
			for k := rapid.IntRange(1, 5).Draw(t, "size"); k > 0; k-- {
				if next < n && (next == 0 || rapid.IntRange(0, 3).Draw(t, "resend") > 0) {
					st.events = append(st.events, pool[next])
					next++
				} else if next > 0 {
					st.events = append(st.events, pool[rapid.IntRange(0, next-1).Draw(t, "old")])
				}
			}
		}
		steps = append(steps, st)
	}
	return append(steps, step{arrival: arrival.Add(33 * 24 * time.Hour)}) // past December's close
}

// partitionStream is what partition p of P receives of steps: at every step a packet of its events, or a tick
// when it has none, so that every partition's clock follows the same arrivals.
func partitionStream(steps []step, p, partitions int) ([]msg, []genEvent) {
	var msgs []msg
	var gen []genEvent
	for i, st := range steps {
		m := msg{Seq: uint64(i + 1), Arrival: st.arrival}
		for _, g := range st.events {
			if events.Partition(g.e.Subject, partitions) == p {
				m.Events = append(m.Events, g.e)
				gen = append(gen, g)
			}
		}
		msgs = append(msgs, m)
	}
	return msgs, gen
}

// TestPropertyFold checks, for random streams with duplicates, reordering, late and invalid events, cut into P
// partitions each folded by its own State that switches to a catalog with a new product, item and contract at
// its own position:
//   - a worker that crashes at random points, restores an older snapshot (or starts afresh) and replays the
//     messages since with their outputs discarded, produces exactly the output of an uninterrupted run, and its
//     replayed state is the uninterrupted one's;
//   - every partition emits the same marks, each counting the closed records emitted before it;
//   - the totals the records imply (closed records with their adjustments folded in) equal those of an
//     independent reference fold of the applied events, allowing the documented dedup slack explicitly.
func TestPropertyFold(t *testing.T) {
	c0, c1 := propCatalogs(t)
	rapid.Check(t, func(t *rapid.T) {
		partitions := rapid.IntRange(1, 3).Draw(t, "partitions")
		horizon := rapid.SampledFrom([]time.Duration{20 * time.Minute, 2 * time.Hour, 24 * time.Hour}).Draw(t, "horizon")
		steps := drawSteps(t)
		var marks string
		for p := 0; p < partitions; p++ {
			msgs, gen := partitionStream(steps, p, partitions)
			pr := &partRun{msgs: msgs, switchAt: rapid.IntRange(0, len(msgs)-1).Draw(t, "switch at"),
				cfg0: Config{Catalog: c0, Partition: p, Partitions: partitions, MarkFrom: propBase, DedupHorizon: horizon}}
			pr.cfg1 = changedConfig(pr.cfg0, c1)
			main := pr.runMain(t)
			if got := pr.runCrashing(t, main); !bytes.Equal(got, main.output()) {
				t.Fatalf("partition %d: output with crashes differs:\n%s\nwithout:\n%s", p, got, main.output())
			}
			lines := outLines(t, main.output())
			checkTotals(t, lines, referenceFold(t, pr, gen, main.dups))
			if got := markSet(lines); p == 0 {
				marks = got
			} else if got != marks {
				t.Fatalf("partition %d marks\n%s\npartition 0\n%s", p, got, marks)
			}
		}
	})
}

// markSet renders the marks of lines as sorted "product/contract/period" lines (partitions that switch
// catalogs at different points emit a new product's first marks at different messages).
func markSet(lines []outLine) string {
	var ms []string
	for _, l := range lines {
		if m := l.Mark; m != nil {
			ms = append(ms, markKey(m.Product, m.Contract, m.PeriodStart))
		}
	}
	slices.Sort(ms)
	return strings.Join(ms, "\n")
}
