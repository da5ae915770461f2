package ingest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// testEvents returns n events over 9 subscriptions and their request positions.
func testEvents(n int, attrBytes int) ([]events.Event, []int) {
	evs, slots := make([]events.Event, n), make([]int, n)
	q, err := events.ParseDecimal("1.5")
	if err != nil {
		panic(err)
	}
	for i := range evs {
		slots[i] = i
		evs[i] = events.Event{
			SpecVersion: "1.0", ID: fmt.Sprintf("id-%05d", i), Source: "src", Type: events.EventType,
			Subject: fmt.Sprintf("AS-%d", i%9), Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
			Data: events.Usage{Product: "PRD-1", Item: "X", Quantity: q, Attributes: map[string]string{"pad": strings.Repeat("p", attrBytes)}},
		}
	}
	return evs, slots
}

// testBatch is a batch of evs at request positions slots; the events without a traceparent get tp and ts,
// as add gives them the request's.
func testBatch(evs []events.Event, slots []int, tp, ts string) *batch {
	kh := newKeyHasher()
	b := &batch{events: slices.Clone(evs), slots: slots, tp: tp, ts: ts}
	for i := range b.events {
		e := &b.events[i]
		b.keys = append(b.keys, kh.key(e.Source, e.ID))
		b.traced = append(b.traced, e.TraceParent == "")
		if e.TraceParent == "" {
			e.TraceParent, e.TraceState = tp, ts
		}
	}
	return b
}

func TestPacketsAreDeterministicWhateverTheRequestOrder(t *testing.T) {
	evs, slots := testEvents(200, 10)
	a := buildPackets(testBatch(evs, slots, "", ""), 4, nil)
	shuffled, shuffledSlots := slices.Clone(evs), slices.Clone(slots)
	rand.Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		shuffledSlots[i], shuffledSlots[j] = shuffledSlots[j], shuffledSlots[i]
	})
	b := buildPackets(testBatch(shuffled, shuffledSlots, "", ""), 4, nil)
	if len(a) != len(b) {
		t.Fatalf("%d packets vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].msgID != b[i].msgID || string(a[i].data) != string(b[i].data) || !slices.Equal(a[i].slots, b[i].slots) {
			t.Errorf("packet %d differs between orders", i)
		}
		for j, e := range a[i].events {
			if evs[a[i].slots[j]].ID != e.ID {
				t.Errorf("packet %d event %s is not at its request position %d", i, e.ID, a[i].slots[j])
			}
		}
	}
}

func TestLargePartitionsAreSplitUnderTheLimit(t *testing.T) {
	evs, slots := testEvents(3000, 200) // ~1 MiB in one partition
	packets := buildPackets(testBatch(evs, slots, "", ""), 1, nil)
	if len(packets) < 4 {
		t.Fatalf("want the partition split into several packets, have %d", len(packets))
	}
	seen := map[int]bool{}
	ids := map[string]bool{}
	for _, p := range packets {
		if len(p.data) > maxPacketBytes {
			t.Errorf("packet of %d bytes exceeds %d", len(p.data), maxPacketBytes)
		}
		ids[p.msgID] = true
		for _, slot := range p.slots {
			seen[slot] = true
		}
	}
	if len(seen) != len(evs) || len(ids) != len(packets) {
		t.Errorf("want every event once in packets with distinct ids: %d events, %d ids for %d packets", len(seen), len(ids), len(packets))
	}
}

// TestSplitIgnoresTheRequestsTraceContext: where a partition splits never depends on the trace context
// the request gives its events, so a retry with other tracing headers makes the same packets and msg-ids;
// and the packets still fit, even with the largest trace context allowed.
func TestSplitIgnoresTheRequestsTraceContext(t *testing.T) {
	evs, slots := testEvents(3000, 200)
	evs[7].TraceParent, evs[7].TraceState = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "own=1" // its own: kept
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	largest := strings.Repeat("k", maxTraceStateBytes-2) + "=v"
	ids := func(tp, ts string) []string {
		var out []string
		for _, p := range buildPackets(testBatch(evs, slots, tp, ts), 1, nil) {
			if len(p.data) > maxPacketBytes {
				t.Errorf("tracestate of %d bytes: packet of %d bytes exceeds %d", len(ts), len(p.data), maxPacketBytes)
			}
			out = append(out, p.msgID)
		}
		return out
	}
	plain := ids("", "")
	if len(plain) < 2 {
		t.Fatalf("want the partition split, have %d packets", len(plain))
	}
	for _, ts := range []string{"", "a=b", largest} {
		if traced := ids(tp, ts); !slices.Equal(plain, traced) {
			t.Errorf("tracestate of %d bytes: %d packets with other msg-ids than the %d without trace context", len(ts), len(traced), len(plain))
		}
	}
}

func TestMsgIDDependsOnPartitionAndKeys(t *testing.T) {
	evs := []events.Event{{Source: "a", ID: "1"}, {Source: "a", ID: "2"}}
	id := func(p int, evs []events.Event) string { _, s := msgID(nil, p, evs); return s }
	ids := map[string]bool{
		id(0, evs): true, id(1, evs): true, id(0, evs[:1]): true,
		id(0, []events.Event{{Source: "a1", ID: ""}, {Source: "a", ID: "2"}}): true, // no ambiguity across fields
	}
	if len(ids) != 4 {
		t.Errorf("want 4 distinct ids, have %d", len(ids))
	}
}

func TestRecentlyStoredIsBounded(t *testing.T) {
	kh := newKeyHasher()
	r := newRecentlyStored(4)
	var keys []eventKey
	for i := range 10 {
		keys = append(keys, kh.key("src", fmt.Sprint(i)))
		r.add(keys[i:]) // one request each
	}
	seen := make([]bool, len(keys))
	r.contains(keys, seen)
	if !seen[9] || !seen[8] {
		t.Errorf("the newest keys are forgotten: %v", seen)
	}
	n := 0
	for _, s := range seen {
		if s {
			n++
		}
	}
	if n > 4 {
		t.Errorf("remembers %d keys, capacity 4", n)
	}
	if kh.key("ab", "c") == kh.key("a", "bc") {
		t.Error("keys are ambiguous across source and id")
	}
}

// TestARequestsKeysAreRememberedAndForgottenTogether: a generation turns only between requests, so a
// request's keys are all remembered, or none, however they fall against the capacity.
func TestARequestsKeysAreRememberedAndForgottenTogether(t *testing.T) {
	kh := newKeyHasher()
	keys := func(prefix string, n int) []eventKey {
		var ks []eventKey
		for i := range n {
			ks = append(ks, kh.key("src", fmt.Sprint(prefix, i)))
		}
		return ks
	}
	r := newRecentlyStored(4)
	req := keys("r", 4)
	count := func() int {
		seen := make([]bool, len(req))
		r.contains(req, seen)
		n := 0
		for _, s := range seen {
			if s {
				n++
			}
		}
		return n
	}
	r.add(req)
	for step := range 4 {
		if n := count(); n != 0 && n != len(req) {
			t.Fatalf("after %d more requests, %d of the request's %d keys are remembered", step, n, len(req))
		}
		r.add(keys(fmt.Sprint("other", step, "-"), 1))
	}
	if n := count(); n != 0 {
		t.Errorf("the request's keys are never forgotten (%d remembered)", n)
	}
}

// TestRememberedEventsAreLeftOutBeforeEncoding: with some keys remembered, the packets are exactly those of
// a request without those events (the same data and msg-ids), the remembered events are reported duplicate
// at their request positions, and the others keep theirs.
func TestRememberedEventsAreLeftOutBeforeEncoding(t *testing.T) {
	evs, slots := testEvents(300, 10)
	full := testBatch(evs, slots, "", "")
	full.results = make([]events.Result, len(evs))
	recent := newRecentlyStored(1000)
	var rest []events.Event
	var restSlots []int
	for i := range evs {
		if i%7 == 0 || i%9 == 4 { // every partition loses some; AS-4's events are all remembered
			recent.add([]eventKey{full.keys[i]})
			continue
		}
		rest, restSlots = append(rest, evs[i]), append(restSlots, slots[i])
	}
	have := buildPackets(full, 4, recent)
	want := buildPackets(testBatch(rest, restSlots, "", ""), 4, nil)
	if len(have) != len(want) {
		t.Fatalf("%d packets, want %d", len(have), len(want))
	}
	for i := range want {
		if have[i].msgID != want[i].msgID || string(have[i].data) != string(want[i].data) ||
			!slices.Equal(have[i].slots, want[i].slots) || have[i].partition != want[i].partition {
			t.Errorf("packet %d differs from the request without the remembered events", i)
		}
	}
	for i, r := range full.results {
		remembered := i%7 == 0 || i%9 == 4
		if remembered != (r.Status == events.StatusDuplicate) {
			t.Errorf("event %d: status %q, remembered %v", i, r.Status, remembered)
		}
	}
}
