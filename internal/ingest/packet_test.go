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

func TestPacketsAreDeterministicWhateverTheRequestOrder(t *testing.T) {
	evs, slots := testEvents(200, 10)
	a := buildPackets(&batch{events: evs, slots: slots}, 4)
	shuffled, shuffledSlots := slices.Clone(evs), slices.Clone(slots)
	rand.Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		shuffledSlots[i], shuffledSlots[j] = shuffledSlots[j], shuffledSlots[i]
	})
	b := buildPackets(&batch{events: shuffled, slots: shuffledSlots}, 4)
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
	packets := buildPackets(&batch{events: evs, slots: slots}, 1)
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
	}
	r.add(keys)
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
