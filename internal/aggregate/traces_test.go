package aggregate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// tp is a distinct valid traceparent for each n.
func tp(n int) string { return fmt.Sprintf("00-%032x-%016x-01", n+1, n+1) }

func withTrace(n int) func(*events.Event) { return func(e *events.Event) { e.TraceParent = tp(n) } }

// linkList renders links as "source/id=n" with n the tp number (or the traceparent if not one of tp's).
func linkList(ls []TraceLink) string {
	var out []string
	for _, l := range ls {
		var hi, lo uint64
		if _, err := fmt.Sscanf(l.TraceParent, "00-%016x%016x-", &hi, &lo); err != nil || hi != 0 {
			out = append(out, l.Source+"/"+l.ID+"="+l.TraceParent)
			continue
		}
		out = append(out, fmt.Sprintf("%s/%s=%d", l.Source, l.ID, lo-1))
	}
	return strings.Join(out, " ")
}

// traceStream is a stream whose periods close with more traced events than a set holds, with repeated trace
// contexts, duplicates, dead letters, untraced events, several contracts and a late event.
func traceStream() []msg {
	var first []events.Event
	for i, n := range []int{1, 2, 1, 3} {
		first = append(first, ev(fmt.Sprint("a", i), "S", "SUM", mins(1), "1", withTrace(n)))
	}
	first = append(first,
		ev("c1", "S", "", mins(1), "1", withCost("CRD-B2", "1"), withTrace(100)),
		ev("c2", "S", "", mins(1), "1", withCost("", "1"), withTrace(101)),
		ev("c3", "T", "", mins(1), "1", withCost("CRD-B2", "1"), withTrace(100)))
	second := []events.Event{
		ev("a0", "S", "SUM", mins(2), "1", withTrace(50)),  // a duplicate: not counted, not linked
		ev("x", "S", "NOPE", mins(2), "1", withTrace(51)),  // a dead letter: not linked
		ev("u", "S", "SUM", mins(2), "1"),                  // untraced
		ev("n", "S", "SUM", mins(61), "1", withTrace(200)), // the next period
		ev("m", "T", "MAX", mins(2), "4", withTrace(2)),    // another key of the same group, a known context
		ev("t", "S", "MINUTES", mins(2), "1", func(e *events.Event) { // another product
			e.Data.Product, e.TraceParent = "PRD-TR", tp(300)
		}),
	}
	for i := 4; i <= 12; i++ {
		second = append(second, ev(fmt.Sprint("b", i), "U", "SUM", mins(3), "1", withTrace(i)))
	}
	return []msg{
		{Seq: 1, Arrival: mins(1), Events: first},
		{Seq: 2, Arrival: mins(3), Events: second},
		{Seq: 3, Arrival: mins(71)}, // closes PRD-QT 10:00 and PRD-TR 10:00
		{Seq: 4, Arrival: mins(72), Events: []events.Event{ev("late", "S", "SUM", mins(5), "1", withTrace(400))}},
		{Seq: 5, Arrival: mins(131)},     // closes PRD-QT 11:00
		{Seq: 6, Arrival: mins(24 * 60)}, // closes PRD-CR's day
	}
}

// runLinks applies msgs and returns the links of each message's output and the output itself (as run writes
// it), restoring the state before every message when restore is set.
func runLinks(t *testing.T, msgs []msg, restore bool) (links []string, output []byte) {
	t.Helper()
	cfg := testConfig(t)
	s := New(cfg)
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
		links = append(links, linkList(out.Links))
	}
	return links, buf.Bytes()
}

func TestTraceLinksOfClosedPeriods(t *testing.T) {
	msgs := traceStream()
	links, output := runLinks(t, msgs, false)
	want := []string{
		"", "",
		// PRD-QT/CRD-A 10:00: the first 8 distinct contexts in stream order; PRD-TR 10:00: one. Rank by rank.
		"test/a0=1 test/t=300 test/a1=2 test/a3=3 test/b4=4 test/b5=5 test/b6=6 test/b7=7 test/b8=8",
		"", // a late event: its adjustment is published with its own source message
		"test/n=200",
		"test/c2=101 test/c1=100", // PRD-CR: CRD-B1, then CRD-B2 (c3 repeats c1's context)
	}
	if !slices.Equal(links, want) {
		t.Errorf("links per message:\n got %q\nwant %q", links, want)
	}
	restored, again := runLinks(t, msgs, true)
	if !slices.Equal(restored, links) || !bytes.Equal(again, output) {
		t.Errorf("with a restore before every message: links %q, output equal %v", restored, bytes.Equal(again, output))
	}
	// Trace contexts take no part in the records: the output bytes are those of the same stream untraced.
	for _, m := range msgs {
		for i := range m.Events {
			m.Events[i].TraceParent = ""
		}
	}
	untraced, plain := runLinks(t, msgs, false)
	if !bytes.Equal(records(plain), records(output)) || strings.Join(untraced, "") != "" {
		t.Errorf("untraced stream: records equal %v, links %q", bytes.Equal(records(plain), records(output)), untraced)
	}
}

// records drops the dead letters (whose payload is the event, trace context included) from run's output.
func records(output []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(output, []byte("\n")) {
		if !bytes.Contains(line, []byte(`"dead_letter":`)) {
			out = append(out, line...)
		}
	}
	return out
}

// TestTraceLinksCopied checks that a trace set keeps copies, not the decoded event's strings.
func TestTraceLinksCopied(t *testing.T) {
	h := newHarness(t, testConfig(t))
	src := []byte("00-00000000000000000000000000000001-0000000000000001-01")
	e := ev("a", "S", "SUM", mins(1), "1")
	e.TraceParent = string(src)
	h.apply(mins(1), e)
	out := h.tick(mins(71))
	if len(out.Links) != 1 || out.Links[0].TraceParent != e.TraceParent || out.Links[0].Source != "test" || out.Links[0].ID != "a" {
		t.Fatalf("links %+v", out.Links)
	}
	if unsafe.StringData(out.Links[0].TraceParent) == unsafe.StringData(e.TraceParent) {
		t.Error("the trace set holds the event's own string")
	}
}

// goldenAfter returns the lines of a golden output of messages after seq.
func goldenAfter(t *testing.T, path string, seq uint64) []byte {
	t.Helper()
	var out []byte
	for _, line := range bytes.SplitAfter([]byte(readFile(t, path)), []byte("\n")) {
		var l struct {
			Seq uint64 `json:"seq"`
		}
		if len(line) > 0 && json.Unmarshal(line, &l) == nil && l.Seq > seq {
			out = append(out, line...)
		}
	}
	return out
}

func TestRestoreRejectsUnknownVersion(t *testing.T) {
	good := snapshotOf(t, New(testConfig(t)))
	for _, v := range []uint64{0, snapshotVersion + 1} {
		body := append([]byte(snapshotMagic), binary.AppendUvarint(nil, v)...)
		body = append(body, good[len(snapshotMagic)+1:len(good)-4]...)
		if _, err := Restore(testConfig(t), bytes.NewReader(withChecksum(body))); !errors.Is(err, ErrSnapshotFormat) {
			t.Errorf("version %d: error %v, want ErrSnapshotFormat", v, err)
		}
	}
}
