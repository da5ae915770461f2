package aggregate

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// meterSpec is an item of the test catalog as the stream generator sees it.
type meterSpec struct {
	product, item string
	prec          int
	negative      bool
}

var propMeters = []meterSpec{
	{"PRD-QT", "SUM", 2, false}, {"PRD-QT", "NEG", 2, true}, {"PRD-QT", "CNT", 0, false},
	{"PRD-QT", "MAX", 2, false}, {"PRD-QT", "MIN", 2, false}, {"PRD-QT", "LAST", 2, false},
	{"PRD-QT", "UNQ", 0, false}, {"PRD-CR", "COST", 4, false}, {"PRD-TR", "MINUTES", 1, false},
}

// genEvent is a generated event and whether the fold must accept it (catalog-wise; it may still be too late).
type genEvent struct {
	e     events.Event
	valid bool
}

func drawEvent(t *rapid.T, i int) genEvent {
	m := rapid.SampledFrom(propMeters).Draw(t, "meter")
	at := t0.Add(time.Duration(rapid.IntRange(-8*3600, 8*3600).Draw(t, "time")) * time.Second)
	qty := drawQuantity(t, m)
	e := ev("e"+strconv.Itoa(i), rapid.SampledFrom([]string{"AS-1", "AS-2", "AS-3"}).Draw(t, "sub"), m.item, at, qty,
		withSource(rapid.SampledFrom([]string{"s1", "s2"}).Draw(t, "source")))
	e.Data.Product = m.product
	switch m.item {
	case "UNQ":
		e.Data.Attributes = map[string]string{"user": rapid.SampledFrom([]string{"u1", "u2", "u3", "u4"}).Draw(t, "user")}
	case "COST":
		a := events.MustDecimal(strconv.Itoa(rapid.IntRange(0, 99).Draw(t, "cents")) + "e-2")
		e.Data.Amount = &a
		e.Data.Contract = rapid.SampledFrom([]string{"", "CRD-B1", "CRD-B2"}).Draw(t, "contract")
	case "MINUTES":
		e.Data.Tier = rapid.IntRange(1, 2).Draw(t, "tier")
	}
	g := genEvent{e: e, valid: true}
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
	return g
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

// drawStream returns source messages: packets of new events, resent events (duplicates) and ticks, with
// arrivals that mostly advance (sometimes going back a little) so that events come on time, late and too late.
func drawStream(t *rapid.T) ([]msg, map[string]bool) {
	n := rapid.IntRange(1, 60).Draw(t, "events")
	pool := make([]genEvent, n)
	valid := map[string]bool{}
	for i := range pool {
		pool[i] = drawEvent(t, i)
		valid[pool[i].e.ID] = pool[i].valid
	}
	var msgs []msg
	arrival, next := t0, 0
	for next < n || rapid.IntRange(0, 3).Draw(t, "more") > 0 {
		arrival = arrival.Add(time.Duration(rapid.IntRange(-5, 50).Draw(t, "step")) * time.Minute)
		m := msg{Seq: uint64(len(msgs) + 1), Arrival: arrival}
		if rapid.IntRange(0, 4).Draw(t, "tick") > 0 {
			for k := rapid.IntRange(1, 5).Draw(t, "size"); k > 0; k-- {
				if next < n && (next == 0 || rapid.IntRange(0, 3).Draw(t, "resend") > 0) {
					m.Events = append(m.Events, pool[next].e)
					next++
				} else if next > 0 {
					m.Events = append(m.Events, pool[rapid.IntRange(0, next-1).Draw(t, "old")].e)
				}
			}
		}
		msgs = append(msgs, m)
	}
	// A last tick closes every period that can still close.
	msgs = append(msgs, msg{Seq: uint64(len(msgs) + 1), Arrival: arrival.Add(96 * time.Hour)})
	return msgs, valid
}

// TestPropertyFold checks, for random streams with duplicates, reordering, late and invalid events: the
// output is identical with the state restored at random points, and the totals it implies (closed records with
// their adjustments folded in) equal a plain fold of the unique events.
func TestPropertyFold(t *testing.T) {
	cat := testCatalog(t)
	rapid.Check(t, func(t *rapid.T) {
		cfg := Config{Catalog: cat, Partitions: 1, MarkFrom: t0,
			DedupHorizon: rapid.SampledFrom([]time.Duration{20 * time.Minute, 2 * time.Hour, 24 * time.Hour}).Draw(t, "horizon")}
		msgs, valid := drawStream(t)
		_, want := run(t, cfg, New(cfg), msgs, false)
		if got := runWithRestores(t, cfg, msgs); !bytes.Equal(got, want) {
			t.Fatalf("output with restores differs:\n%s\nwithout:\n%s", got, want)
		}
		for _, m := range msgs {
			var ids []string
			for _, e := range m.Events {
				ids = append(ids, e.ID+":"+e.Data.Item+":"+e.Data.Quantity.String()+":"+e.Time.Format("15:04"))
			}
			t.Logf("msg %d %v %v", m.Seq, m.Arrival.Format("15:04"), ids)
		}
		ref := referenceFold(cfg, msgs, valid)
		checkTotals(t, outLines(t, want), ref)
	})
}

func runWithRestores(t *rapid.T, cfg Config, msgs []msg) []byte {
	var out []byte
	s := New(cfg)
	for i := 0; i < len(msgs); {
		j := i + rapid.IntRange(1, len(msgs)-i).Draw(t, "restore after")
		var part []byte
		s, part = run(t, cfg, s, msgs[i:j], false)
		out = append(out, part...)
		s = roundTrip(t, cfg, s)
		i = j
	}
	return out
}

// refKey is a record identity; refVal the reference aggregate.
type refKey struct {
	product, contract, sub, item string
	tier                         int
	start                        int64
}

type refVal struct {
	agg          events.Aggregation
	qty, amount  events.Decimal
	hasAmount    bool
	n            int64
	lastAt       time.Time
	uniq         map[string]bool
	digest       events.Digest
	deadLetters  int
	emittedDLs   int
	closedCounts int
}

type reference struct {
	vals        map[refKey]*refVal
	deadLetters int
}

// referenceFold folds the stream the simple way: a map of every id applied with the generation of its
// application, a monotonic clock, the catalog's periods.
func referenceFold(cfg Config, msgs []msg, valid map[string]bool) reference {
	ref := reference{vals: map[refKey]*refVal{}}
	width := int64(cfg.horizon()) / genSpan
	seen := map[events.Key]int64{}
	var clock time.Time
	for _, m := range msgs {
		if m.Arrival.After(clock) {
			clock = m.Arrival
		}
		g := clock.UnixNano() / width
		for _, e := range m.Events {
			if gs, ok := seen[e.Key()]; ok && g-gs <= genSpan {
				continue
			}
			p, _ := cfg.Catalog.Product(e.Data.Product)
			pd := p.Period.Containing(e.Time)
			if !valid[e.ID] || !clock.Before(pd.End.Add(p.MaxEventAge)) {
				ref.deadLetters++
				continue
			}
			seen[e.Key()] = g
			ref.add(p, pd, e)
		}
	}
	return ref
}

func (ref reference) add(p *events.Product, pd events.Period, e events.Event) {
	it, _ := p.Item(e.Data.Item)
	contract, _ := p.ContractFor(&e)
	k := refKey{p.ID, contract, e.Subject, it.MPN, e.Data.Tier, pd.Start.UnixNano()}
	v := ref.vals[k]
	if v == nil {
		v = &refVal{agg: it.Aggregation, uniq: map[string]bool{}}
		ref.vals[k] = v
	}
	q := e.Data.Quantity
	switch it.Aggregation {
	case events.AggregationSum:
		v.qty = v.qty.Add(q)
	case events.AggregationMax:
		if v.n == 0 || q.Cmp(v.qty) > 0 {
			v.qty = q
		}
	case events.AggregationMin:
		if v.n == 0 || q.Cmp(v.qty) < 0 {
			v.qty = q
		}
	case events.AggregationLast:
		if v.n == 0 || !e.Time.Before(v.lastAt) {
			v.qty, v.lastAt = q, e.Time
		}
	case events.AggregationUniqueCount:
		v.uniq[e.Data.Attributes[it.UniqueAttribute]] = true
	}
	if e.Data.Amount != nil {
		v.amount, v.hasAmount = v.amount.Add(*e.Data.Amount), true
	}
	v.n++
	v.digest.Add(e.Key())
}

func (v *refVal) value() events.Decimal {
	switch v.agg {
	case events.AggregationCount:
		return events.DecimalFromInt(v.n)
	case events.AggregationUniqueCount:
		return events.DecimalFromInt(int64(len(v.uniq)))
	}
	return v.qty
}

// emitted is a key's value as a consumer of the records computes it.
type emitted struct {
	qty, amount events.Decimal
	hasAmount   bool
	n           int64
	digest      events.Digest
	revision    int
}

func checkTotals(t *rapid.T, lines []outLine, ref reference) {
	got := map[refKey]*emitted{}
	marked := map[string]int{}
	closedPer := map[string]int{}
	dls := 0
	for _, l := range lines {
		switch {
		case l.Closed != nil:
			foldRecord(t, got, l.Closed)
			pk := markKey(l.Closed.Product, l.Closed.Contract, l.Closed.PeriodStart)
			if _, done := marked[pk]; done {
				t.Fatalf("closed record after the mark of its period: %+v", l.Closed)
			}
			closedPer[pk]++
		case l.Adjustment != nil:
			foldRecord(t, got, l.Adjustment)
		case l.Mark != nil:
			pk := markKey(l.Mark.Product, l.Mark.Contract, l.Mark.PeriodStart)
			if l.Mark.Records != closedPer[pk] {
				t.Fatalf("mark %+v counts %d records, %d were emitted", l.Mark, l.Mark.Records, closedPer[pk])
			}
			marked[pk]++
		case l.DeadLetter != nil:
			dls++
		}
	}
	if dls != ref.deadLetters {
		for _, l := range lines {
			if l.DeadLetter != nil {
				t.Logf("DL seq %d %s %s", l.Seq, l.DeadLetter.Reason, l.DeadLetter.Payload)
			}
		}
		t.Fatalf("%d dead letters, the reference has %d", dls, ref.deadLetters)
	}
	for pk, n := range marked {
		if n != 1 {
			t.Fatalf("%d marks for %s", n, pk)
		}
	}
	for pk := range closedPer {
		if marked[pk] != 1 {
			t.Fatalf("closed records of %s without a mark", pk)
		}
	}
	compareTotals(t, got, ref)
}

func markKey(product, contract string, start time.Time) string {
	return product + "/" + contract + "/" + start.UTC().Format(time.RFC3339)
}

func foldRecord(t *rapid.T, got map[refKey]*emitted, r *events.PeriodRecord) {
	k := refKey{r.Product, r.Contract, r.Subscription, r.Item, r.Tier, r.PeriodStart.UnixNano()}
	g := got[k]
	if g == nil {
		g = &emitted{revision: -1}
		got[k] = g
	}
	if r.Revision != g.revision+1 && !(g.revision == -1 && r.Revision == 1) {
		t.Fatalf("revision %d after %d: %+v", r.Revision, g.revision, r)
	}
	g.revision = r.Revision
	switch r.Mode {
	case events.ModeTotal, events.ModeReplace:
		if r.Mode == events.ModeReplace && r.Revision > 1 && (r.Previous == nil || r.Previous.Cmp(g.qty) != 0) {
			t.Fatalf("previous %s, the value was %s: %+v", decStr(r.Previous), g.qty, r)
		}
		g.qty = r.Quantity
	case events.ModeDelta:
		g.qty = g.qty.Add(r.Quantity)
	}
	if r.Amount != nil {
		g.amount, g.hasAmount = g.amount.Add(*r.Amount), true
	}
	g.n += r.Events
	d, err := events.ParseDigest(r.Digest)
	if err != nil {
		t.Fatal(err)
	}
	g.digest.Merge(d)
}

func compareTotals(t *rapid.T, got map[refKey]*emitted, ref reference) {
	for k, v := range ref.vals {
		g := got[k]
		if g == nil {
			t.Fatalf("no record for %+v (reference %s)", k, v.value())
		}
		if g.qty.Cmp(v.value()) != 0 || g.hasAmount != v.hasAmount || g.amount.Cmp(v.amount) != 0 {
			t.Fatalf("%+v: emitted %s amount %s, reference %s amount %s", k, g.qty, g.amount, v.value(), v.amount)
		}
		// Lineage is complete for additive aggregations; others skip adjustments that change nothing.
		if additive := v.agg == events.AggregationSum || v.agg == events.AggregationCount; additive && (g.n != v.n || g.digest != v.digest) {
			t.Fatalf("%+v: emitted %d events digest %s, reference %d %s", k, g.n, g.digest, v.n, v.digest)
		}
	}
	for k := range got {
		if ref.vals[k] == nil {
			t.Fatalf("record for %+v, which the reference does not have", k)
		}
	}
}

var _ = fmt.Sprint
