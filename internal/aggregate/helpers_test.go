package aggregate

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// t0 is the creation time of the test event streams: an hour boundary.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testCatalog(t testing.TB) *events.Catalog {
	t.Helper()
	data, err := os.ReadFile("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := events.ParseCatalog(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testConfig(t testing.TB) Config {
	return Config{Catalog: testCatalog(t), Partition: 0, Partitions: 1, MarkFrom: t0}
}

// ev is a PRD-QT event of item at time at; opts adjust it.
func ev(id, sub, item string, at time.Time, qty string, opts ...func(*events.Event)) events.Event {
	e := events.Event{
		SpecVersion: events.SpecVersion, ID: id, Source: "test", Type: events.EventType, Subject: sub, Time: at,
		Data: events.Usage{Product: "PRD-QT", Item: item, Quantity: events.MustDecimal(qty)},
	}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func withAttr(k, v string) func(*events.Event) {
	return func(e *events.Event) { e.Data.Attributes = map[string]string{k: v} }
}

func withCost(contract, amount string) func(*events.Event) {
	return func(e *events.Event) {
		a := events.MustDecimal(amount)
		e.Data.Product, e.Data.Item, e.Data.Contract, e.Data.Amount = "PRD-CR", "COST", contract, &a
	}
}

func withSource(src string) func(*events.Event) { return func(e *events.Event) { e.Source = src } }

// tb is what the helpers need of testing.TB and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// msg is one source message: a packet (Events) or a tick (no events).
type msg struct {
	Seq     uint64         `json:"seq"`
	Arrival time.Time      `json:"arrival"`
	Events  []events.Event `json:"events,omitempty"`
}

// run applies msgs to s and returns the output, one JSON line per item. With restore, the state is
// snapshotted and restored before each message and the snapshot bytes are checked to round-trip.
func run(t tb, cfg Config, s *State, msgs []msg, restore bool) (*State, []byte) {
	t.Helper()
	var buf bytes.Buffer
	var out Output
	for _, m := range msgs {
		if restore {
			s = roundTrip(t, cfg, s)
		}
		out.Reset()
		if len(m.Events) == 0 {
			s.Advance(m.Seq, m.Arrival, &out)
		} else {
			s.Apply(m.Seq, m.Arrival, m.Events, &out)
		}
		writeOutput(t, &buf, m.Seq, &out)
	}
	return s, buf.Bytes()
}

func roundTrip(t tb, cfg Config, s *State) *State {
	t.Helper()
	var a, b bytes.Buffer
	if err := s.Snapshot(&a); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(cfg, bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("snapshot of the restored state differs (%d vs %d bytes)", a.Len(), b.Len())
	}
	return r
}

// outLine is one output item in the golden form.
type outLine struct {
	Seq        uint64                `json:"seq"`
	Closed     *events.PeriodRecord  `json:"closed,omitempty"`
	Adjustment *events.PeriodRecord  `json:"adjustment,omitempty"`
	Mark       *events.PartitionMark `json:"mark,omitempty"`
	DeadLetter *events.DeadLetter    `json:"dead_letter,omitempty"`
}

func writeOutput(t tb, buf *bytes.Buffer, seq uint64, out *Output) {
	t.Helper()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	put := func(l outLine) {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	for i := range out.Closed {
		put(outLine{Seq: seq, Closed: &out.Closed[i]})
	}
	for i := range out.Adjustments {
		put(outLine{Seq: seq, Adjustment: &out.Adjustments[i]})
	}
	for i := range out.Marks {
		put(outLine{Seq: seq, Mark: &out.Marks[i]})
	}
	for i := range out.DeadLetters {
		put(outLine{Seq: seq, DeadLetter: &out.DeadLetters[i]})
	}
}

func outLines(t tb, b []byte) []outLine {
	t.Helper()
	var ls []outLine
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var l outLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	return ls
}

// harness applies messages with consecutive sequences and keeps the last output.
type harness struct {
	t   testing.TB
	cfg Config
	s   *State
	seq uint64
	out Output
}

func newHarness(t testing.TB, cfg Config) *harness {
	return &harness{t: t, cfg: cfg, s: New(cfg)}
}

// min returns t0 + m minutes.
func mins(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }

func (h *harness) apply(at time.Time, evs ...events.Event) *Output {
	h.seq++
	h.out.Reset()
	h.s.Apply(h.seq, at, evs, &h.out)
	return &h.out
}

func (h *harness) tick(at time.Time) *Output {
	h.seq++
	h.out.Reset()
	h.s.Advance(h.seq, at, &h.out)
	return &h.out
}

func (h *harness) restore() { h.s = roundTrip(h.t, h.cfg, h.s) }

// restoreWith restores the state with another config (such as a changed catalog).
func (h *harness) restoreWith(cfg Config) {
	h.t.Helper()
	var buf bytes.Buffer
	if err := h.s.Snapshot(&buf); err != nil {
		h.t.Fatal(err)
	}
	s, err := Restore(cfg, &buf)
	if err != nil {
		h.t.Fatal(err)
	}
	h.s, h.cfg = s, cfg
}

// closed returns the closed record of (sub, item) in out, failing if there is not exactly one.
func closedOf(t testing.TB, out *Output, sub, item string) events.PeriodRecord {
	t.Helper()
	return only(t, out.Closed, sub, item)
}

func adjustmentOf(t testing.TB, out *Output, sub, item string) events.PeriodRecord {
	t.Helper()
	return only(t, out.Adjustments, sub, item)
}

func only(t testing.TB, rs []events.PeriodRecord, sub, item string) events.PeriodRecord {
	t.Helper()
	var found []events.PeriodRecord
	for _, r := range rs {
		if r.Subscription == sub && r.Item == item {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d records of (%s, %s) in %+v", len(found), sub, item, rs)
	}
	return found[0]
}

func decStr(d *events.Decimal) string {
	if d == nil {
		return "<nil>"
	}
	return d.String()
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func indexOf(s, sub string) int { return strings.Index(s, sub) }

func crcOf(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// mix64 scrambles test integers into well-spread 64-bit hashes (a bijection: distinct inputs stay distinct).
func mix64(x uint64) uint64 {
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x
}
