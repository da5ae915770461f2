package aggregate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// editedCatalog is the test catalog with each old text replaced by its new one (pairs), failing if one is
// missing.
func editedCatalog(t testing.TB, pairs ...string) *events.Catalog {
	t.Helper()
	data := readFile(t, "testdata/catalog.yaml")
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(data, pairs[i]) {
			t.Fatalf("%q is not in the test catalog", pairs[i])
		}
		data = strings.Replace(data, pairs[i], pairs[i+1], 1)
	}
	c, err := events.ParseCatalog([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withoutProduct is the test catalog without product id.
func withoutProduct(t testing.TB, id string) *events.Catalog {
	t.Helper()
	data := readFile(t, "testdata/catalog.yaml")
	i := strings.Index(data, "  - id: "+id+"\n")
	if i < 0 {
		t.Fatalf("no product %s", id)
	}
	j := strings.Index(data[i+1:], "  - id: ")
	if j < 0 {
		j = len(data) - i - 1
	}
	return editedCatalog(t, data[i:i+1+j], "")
}

func changedConfig(cfg Config, c *events.Catalog) Config {
	cfg.Catalog = c
	return cfg
}

// TestAggregationChangeKeepsKeys: when an item's aggregation changes, the keys that exist keep folding (on time
// and late) with the aggregation they were created with, new keys take the new one, and a record identity
// never has two keys: one record per (subscription, item, period), counted once by the mark.
func TestAggregationChangeKeepsKeys(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("a", "S", "SUM", mins(1), "1"), ev("b", "S", "SUM", mins(2), "2"))
	h.restoreWith(changedConfig(cfg, editedCatalog(t, "{mpn: SUM, precision: decimal(2), aggregation: sum}",
		"{mpn: SUM, precision: decimal(2), aggregation: max}")))
	h.apply(mins(3), ev("c", "S", "SUM", mins(3), "0.5"), ev("d", "S2", "SUM", mins(3), "4"), ev("e", "S2", "SUM", mins(4), "1"))
	h.restore() // the keys keep their aggregation across snapshots
	out := h.tick(mins(70))
	if len(out.Closed) != 2 {
		t.Fatalf("%d closed records, want one per subscription: %+v", len(out.Closed), out.Closed)
	}
	checkRecord(t, closedOf(t, out, "S", "SUM"), events.AggregationSum, "3.5")
	checkRecord(t, closedOf(t, out, "S2", "SUM"), events.AggregationMax, "4")
	if out.Closed[0].RecordID() == out.Closed[1].RecordID() {
		t.Error("two records with one RecordID")
	}
	if got := markList(out.Marks); !strings.Contains(got, "PRD-QT/CRD-A/25T10=2") {
		t.Errorf("marks %q", got)
	}
	// Late events: the old key adjusts as a sum, a key new in the closed period as a max.
	out = h.apply(mins(80), ev("f", "S", "SUM", mins(5), "1"), ev("g", "S3", "SUM", mins(5), "2"))
	if a := adjustmentOf(t, out, "S", "SUM"); a.Mode != events.ModeDelta || a.Revision != 1 || a.Quantity.String() != "1" {
		t.Errorf("adjustment of the old key %+v", a)
	}
	if a := adjustmentOf(t, out, "S3", "SUM"); a.Mode != events.ModeReplace || a.Aggregation != events.AggregationMax || a.Revision != 1 {
		t.Errorf("adjustment of the new key %+v", a)
	}
	// The next period's keys are new: max.
	h.apply(mins(81), ev("h", "S", "SUM", mins(75), "1"), ev("i", "S", "SUM", mins(76), "3"))
	checkRecord(t, closedOf(t, h.tick(mins(130)), "S", "SUM"), events.AggregationMax, "3")
}

func checkRecord(t *testing.T, r events.PeriodRecord, agg events.Aggregation, qty string) {
	t.Helper()
	if r.Aggregation != agg || r.Quantity.String() != qty {
		t.Errorf("record %s/%s: %s %s, want %s %s", r.Subscription, r.Item, r.Aggregation, r.Quantity, agg, qty)
	}
}

// TestAggregationChangeChecksTheKeysRules: an event that folds into a key of another aggregation than its
// item's must meet that key's requirements too: the attribute a unique_count key counts, a quantity within the
// item's precision for a key that sums it even if the item now counts events.
func TestAggregationChangeChecksTheKeysRules(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("a", "S", "UNQ", mins(1), "1", withAttr("user", "u1")), ev("b", "S", "SUM", mins(1), "1"))
	h.restoreWith(changedConfig(cfg, editedCatalog(t,
		"{mpn: UNQ, precision: integer, aggregation: unique_count, unique_attribute: user}", "{mpn: UNQ, precision: integer, aggregation: sum}",
		"{mpn: SUM, precision: decimal(2), aggregation: sum}", "{mpn: SUM, precision: decimal(2), aggregation: count}")))
	out := h.apply(mins(2),
		ev("c", "S", "UNQ", mins(2), "5", withAttr("user", "u2")), // counted by the unique_count key
		ev("d", "S", "UNQ", mins(2), "5"),                         // no attribute for the unique_count key
		ev("e", "S2", "UNQ", mins(2), "5"),                        // a new key: a sum
		ev("f", "S", "SUM", mins(2), "1.234"),                     // too many decimals for the sum key
		ev("g", "S2", "SUM", mins(2), "1.234"),                    // a new key: a count, quantities ignored
	)
	var reasons []string
	for _, dl := range out.DeadLetters {
		reasons = append(reasons, string(dl.Reason))
	}
	if got := strings.Join(reasons, " "); got != "missing_attribute bad_quantity" {
		t.Fatalf("dead letters %q", got)
	}
	out = h.tick(mins(70))
	checkRecord(t, closedOf(t, out, "S", "UNQ"), events.AggregationUniqueCount, "2")
	checkRecord(t, closedOf(t, out, "S2", "UNQ"), events.AggregationSum, "5")
	checkRecord(t, closedOf(t, out, "S", "SUM"), events.AggregationSum, "1")
	checkRecord(t, closedOf(t, out, "S2", "SUM"), events.AggregationCount, "1")
}

// switchRun applies msgs to a fresh state of cfg, switching to the config of switches[i] (Snapshot, then
// Restore with it) right before the message of that index, and returns the output lines.
func switchRun(t *testing.T, cfg Config, msgs []msg, switches map[int]Config) []outLine {
	t.Helper()
	s := New(cfg)
	var buf bytes.Buffer
	var out Output
	for i, m := range msgs {
		if c, ok := switches[i]; ok {
			s = restoreAs(t, s, c)
		}
		out.Reset()
		if len(m.Events) == 0 {
			s.Advance(m.Seq, m.Arrival, &out)
		} else {
			s.Apply(m.Seq, m.Arrival, m.Events, &out)
		}
		writeOutput(t, &buf, m.Seq, &out)
	}
	return outLines(t, buf.Bytes())
}

func restoreAs(t tb, s *State, cfg Config) *State {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// costStream has PRD-CR events on both contracts in the Madrid days of Nov 25 and 26, and a tick every 3 hours
// for four days.
func costStream() []msg {
	var msgs []msg
	at := t0
	for i := 0; i < 32; i++ {
		m := msg{Seq: uint64(i + 1), Arrival: at}
		if i%4 == 1 && i < 16 {
			m.Events = []events.Event{
				ev(fmt.Sprint("c", i), "S", "", at, "1", withCost("CRD-B1", "1")),
				ev(fmt.Sprint("d", i), "T", "", at, "2", withCost("CRD-B2", "1")),
			}
		}
		msgs = append(msgs, m)
		at = at.Add(3 * time.Hour)
	}
	return msgs
}

// marksOf renders the marks of product as "contract/period=records".
func marksOf(lines []outLine, product string) []string {
	var ms []string
	for _, l := range lines {
		if m := l.Mark; m != nil && m.Product == product {
			ms = append(ms, fmt.Sprintf("%s/%s=%d", m.Contract, m.PeriodStart.Format(time.RFC3339), m.Records))
		}
	}
	return ms
}

// checkMarksCount checks that every mark counts the closed records emitted before it for its period.
func checkMarksCount(t *testing.T, lines []outLine) {
	t.Helper()
	closed := map[string]int{}
	for _, l := range lines {
		switch {
		case l.Closed != nil:
			closed[markKey(l.Closed.Product, l.Closed.Contract, l.Closed.PeriodStart)]++
		case l.Mark != nil:
			if k := markKey(l.Mark.Product, l.Mark.Contract, l.Mark.PeriodStart); closed[k] != l.Mark.Records {
				t.Errorf("mark %s counts %d records, %d were emitted", k, l.Mark.Records, closed[k])
			}
		}
	}
}

// TestRetiredProductMarkedAsEverywhere: a product (or a contract) that leaves the catalog keeps being marked,
// with its definition, so every partition emits the same marks for it whatever stream position it switched at,
// and a partition that switched marks the records it closed for it. Its events after the switch are dead
// letters. A product that comes back continues its marks where they stood.
func TestRetiredProductMarkedAsEverywhere(t *testing.T) {
	cfg := testConfig(t)
	cfg.Partitions = 2
	msgs := costStream()
	stay := switchRun(t, cfg, msgs, nil)
	want := marksOf(stay, "PRD-CR")
	if len(want) < 8 {
		t.Fatalf("the stream marks PRD-CR only %d times", len(want))
	}
	noCR := changedConfig(cfg, withoutProduct(t, "PRD-CR"))
	noB2 := changedConfig(cfg, editedCatalog(t, "contracts: [CRD-B1, CRD-B2]", "contracts: [CRD-B1]"))
	for _, at := range []int{0, 2, 5, 9, 20} {
		for name, changed := range map[string]Config{"product removed": noCR, "contract removed": noB2} {
			t.Run(fmt.Sprintf("%s at %d", name, at), func(t *testing.T) {
				lines := switchRun(t, cfg, msgs, map[int]Config{at: changed})
				checkMarksCount(t, lines)
				got := marksOf(lines, "PRD-CR")
				if periodsOf(got) != periodsOf(want) {
					t.Errorf("marks\n got %v\nwant %v", got, want)
				}
				if at == 20 && strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("switched after the data: marks\n got %v\nwant %v", got, want)
				}
				back := switchRun(t, cfg, msgs, map[int]Config{at: changed, at + 3: cfg})
				if periodsOf(marksOf(back, "PRD-CR")) != periodsOf(want) {
					t.Errorf("back in the catalog: marks %v", marksOf(back, "PRD-CR"))
				}
			})
		}
	}
}

// periodsOf drops the record counts of marksOf's lines.
func periodsOf(marks []string) string {
	var ps []string
	for _, m := range marks {
		ps = append(ps, m[:strings.LastIndexByte(m, '=')])
	}
	return strings.Join(ps, " ")
}

// TestRetiredProductEventsAreDeadLetters: after the switch, events of the removed product or contract are dead
// letters, on time or late, while its periods open at the switch still close with the records they had.
func TestRetiredProductEventsAreDeadLetters(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("a", "S", "", mins(1), "1", withCost("CRD-B1", "1")), ev("b", "S", "", mins(1), "1", withCost("CRD-B2", "1")))
	h.restoreWith(changedConfig(cfg, editedCatalog(t, "contracts: [CRD-B1, CRD-B2]", "contracts: [CRD-B1]")))
	out := h.apply(mins(2), ev("c", "S", "", mins(2), "1", withCost("CRD-B2", "1")), ev("d", "S", "", mins(2), "1", withCost("CRD-B1", "1")))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownContract {
		t.Fatalf("dead letters %+v", out.DeadLetters)
	}
	closeAt := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	out = h.tick(closeAt)
	if got := markList(out.Marks[:2]); got != "PRD-CR/CRD-B1/24T23=1 PRD-CR/CRD-B2/24T23=1" || len(out.Closed) != 2 {
		t.Fatalf("marks %q, closed %+v", got, out.Closed)
	}
	h.restoreWith(changedConfig(cfg, withoutProduct(t, "PRD-CR")))
	h.restore() // a retired product's definition round-trips
	out = h.apply(closeAt.Add(time.Minute), ev("e", "S", "", mins(3), "1", withCost("CRD-B1", "1")))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownProduct || len(out.Adjustments) != 0 {
		t.Fatalf("late event of a removed product: %+v", out)
	}
	if st := h.s.Stats(); st.ClosedKeys != 2 {
		t.Errorf("closed keys %d, want 2 (kept until their max event age)", st.ClosedKeys)
	}
	out = h.tick(closeAt.Add(72 * time.Hour))
	if st := h.s.Stats(); st.ClosedKeys != 0 || len(marksOf(outLinesOf(t, out), "PRD-CR")) != 6 {
		t.Errorf("after the max event age: stats %+v, marks %q", st, markList(out.Marks))
	}
}

func outLinesOf(t *testing.T, out *Output) []outLine {
	var buf bytes.Buffer
	writeOutput(t, &buf, 0, out)
	return outLines(t, buf.Bytes())
}

// TestItemRemoved: an item that leaves the catalog keeps its keys until they expire: its open period closes
// with its records, which the marks count; its events, on time or late, are dead letters.
func TestItemRemoved(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("a", "S", "SUM", mins(1), "1"), ev("b", "S", "MAX", mins(1), "5"), ev("c", "T", "MAX", mins(61), "2"))
	h.restoreWith(changedConfig(cfg, editedCatalog(t, "      - {mpn: MAX, precision: decimal(2), aggregation: max}\n", "")))
	out := h.apply(mins(2), ev("d", "S", "MAX", mins(2), "9"), ev("e", "S", "SUM", mins(2), "1"))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownItem {
		t.Fatalf("dead letters %+v", out.DeadLetters)
	}
	out = h.tick(mins(70))
	checkRecord(t, closedOf(t, out, "S", "MAX"), events.AggregationMax, "5")
	checkRecord(t, closedOf(t, out, "S", "SUM"), events.AggregationSum, "2")
	if got := markList(out.Marks); !strings.Contains(got, "PRD-QT/CRD-A/25T10=2") {
		t.Errorf("marks %q", got)
	}
	out = h.apply(mins(80), ev("f", "S", "MAX", mins(3), "7"))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownItem || len(out.Adjustments) != 0 {
		t.Fatalf("late event of a removed item: %+v", out)
	}
	h.restore()
	if r := closedOf(t, h.tick(mins(130)), "T", "MAX"); r.Quantity.String() != "2" {
		t.Errorf("the next period's record %+v", r)
	}
	if h.tick(mins(8 * 60)); h.s.Stats().ClosedKeys != 0 {
		t.Errorf("keys of the removed item kept past their max event age: %+v", h.s.Stats())
	}
}

// TestCatalogAdditionsMarkedAlike: a new product and a new contract start their marks from MarkFrom in every
// partition, however far apart the partitions switch; each partition folds the new product's events from its
// switch on (dead letters before), and a period that closed before its switch takes them as adjustments.
func TestCatalogAdditionsMarkedAlike(t *testing.T) {
	cfg := testConfig(t)
	cfg.Partitions = 2
	added := changedConfig(cfg, parseCatalog(t, strings.Replace(readFile(t, "testdata/catalog.yaml"), "contracts: [CRD-A]", "contracts: [CRD-A, CRD-A2]", 1)+`
  - id: PRD-NEW
    schema: QT
    currency: USD
    contracts: [CRD-N]
    period: {kind: fixed, every: 2h}
    allowed_lateness: 1m
    max_event_age: 12h
    items: [{mpn: X, precision: integer, aggregation: sum}]
`))
	var msgs []msg
	for i := 0; i < 24; i++ {
		at := mins(float64(30 * i))
		m := msg{Seq: uint64(i + 1), Arrival: at}
		if i%3 == 1 {
			m.Events = []events.Event{ev(fmt.Sprint("n", i), "S", "X", at.Add(-40*time.Minute), "1", func(e *events.Event) { e.Data.Product = "PRD-NEW" })}
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, msg{Seq: 25, Arrival: mins(24 * 60)})
	var marks []string
	for part, at := range map[int]int{0: 1, 1: 15} {
		c, a := cfg, added
		c.Partition, a.Partition = part, part
		lines := switchRun(t, c, msgs, map[int]Config{at: a})
		checkMarksCount(t, lines)
		dls, folded := 0, int64(0)
		for _, l := range lines {
			if l.DeadLetter != nil {
				dls++
			}
			for _, r := range []*events.PeriodRecord{l.Closed, l.Adjustment} {
				if r != nil && r.Product == "PRD-NEW" {
					folded += r.Events
				}
			}
		}
		if wantDL := (at + 1) / 3; dls != wantDL || folded != int64(8-wantDL) {
			t.Errorf("partition %d: %d dead letters and %d events of PRD-NEW in records, want %d and %d", part, dls, folded, wantDL, 8-wantDL)
		}
		got := periodsOf(marksOf(lines, "PRD-NEW")) + " | " + periodsOf(marksOfContract(lines, "CRD-A2"))
		if marks = append(marks, got); marks[0] != got {
			t.Errorf("partition %d marks\n%s\nwant (partition 0)\n%s", part, got, marks[0])
		}
	}
	if !strings.HasPrefix(marks[0], "CRD-N/2026-11-25T08:00:00Z CRD-N/2026-11-25T10:00:00Z") {
		t.Errorf("PRD-NEW's marks start %q, want its [08:00, 10:00), which closes after MarkFrom", marks[0])
	}
}

func marksOfContract(lines []outLine, contract string) []string {
	var ms []string
	for _, l := range lines {
		if m := l.Mark; m != nil && m.Contract == contract {
			ms = append(ms, fmt.Sprintf("%s/%s=%d", m.Contract, m.PeriodStart.Format(time.RFC3339), m.Records))
		}
	}
	return ms
}
