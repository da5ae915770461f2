package aggregate

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestUsageIsTheRecordToCome: the usage of a subscription read before the close equals, key by key, the closed
// record the close emits (quantity, amount, events, digest); after a late event the closed period's usage
// moves by exactly the late quantity, and its revision is the adjustment's.
func TestUsageIsTheRecordToCome(t *testing.T) {
	cfg := testConfig(t)
	s := New(cfg)
	var out Output
	at := t0.Add(5 * time.Minute)
	s.Apply(1, at, []events.Event{
		ev("a1", "AS-1", "SUM", at, "1.25"), ev("a2", "AS-1", "SUM", at, "2.50"), ev("a3", "AS-1", "MAX", at, "7"),
		ev("a4", "AS-1", "UNQ", at, "1", withAttr("user", "u1")), ev("a5", "AS-1", "UNQ", at, "1", withAttr("user", "u1")),
		ev("b1", "AS-2", "SUM", at, "100"), ev("c1", "AS-1", "COST", at, "3", withCost("CRD-B2", "0.5")),
		ev("a2", "AS-1", "SUM", at, "9"), // a duplicate: not counted
	}, &out)
	s.Apply(2, at.Add(time.Minute), []events.Event{ev("a6", "AS-1", "SUM", at, "0.25"),
		ev("c2", "AS-1", "COST", at, "4", withCost("CRD-B2", "1.25"))}, &out)
	before := s.Usage("AS-1")
	if len(before) != 4 {
		t.Fatalf("usage of AS-1: %d keys, want 4 (SUM, MAX, UNQ, COST): %+v", len(before), before)
	}
	for _, u := range before {
		if u.Closed || u.Revision != 0 {
			t.Errorf("open key reported closed: %+v", u)
		}
	}
	out.Reset()
	s.Advance(3, t0.Add(70*time.Minute), &out) // PRD-QT's hour closes (1 h + 10 min lateness); PRD-CR's day does not
	closed := map[string]events.PeriodRecord{}
	for _, r := range out.Closed {
		if r.Subscription == "AS-1" {
			closed[r.Item] = r
		}
	}
	if len(closed) != 3 {
		t.Fatalf("closed records of AS-1: %d, want 3", len(closed))
	}
	for _, u := range before {
		r, ok := closed[u.Item]
		if u.Product == "PRD-CR" {
			continue // its period is still open
		}
		if !ok || r.Quantity.Cmp(u.Quantity) != 0 || r.Events != u.Events || r.Digest != u.Digest ||
			!r.PeriodStart.Equal(u.PeriodStart) || !u.ClosesAt.Equal(r.PeriodEnd.Add(10*time.Minute)) {
			t.Errorf("item %s: usage %+v, closed record %+v", u.Item, u, r)
		}
	}
	if want := events.MustDecimal("4.00"); closed["SUM"].Quantity.Cmp(want) != 0 {
		t.Errorf("SUM %s, want %s", closed["SUM"].Quantity, want)
	}
	cost := s.Usage("AS-1")[0]
	if cost.Product != "PRD-CR" || cost.Amount == nil || cost.Amount.Cmp(events.MustDecimal("1.75")) != 0 || cost.Closed {
		t.Errorf("cost key: %+v", cost)
	}

	out.Reset()
	s.Apply(4, t0.Add(80*time.Minute), []events.Event{ev("late", "AS-1", "SUM", at, "0.75")}, &out)
	if len(out.Adjustments) != 1 {
		t.Fatalf("want one adjustment, have %+v", out.Adjustments)
	}
	for _, u := range s.Usage("AS-1") {
		if u.Item != "SUM" {
			continue
		}
		want := closed["SUM"].Quantity.Add(events.MustDecimal("0.75"))
		if !u.Closed || u.Quantity.Cmp(want) != 0 || u.Revision != 1 || u.Events != 4 || u.Digest != "" {
			t.Errorf("after the late event: %+v, want closed, quantity %s, revision 1, 4 events", u, want)
		}
	}
	if got := s.Usage("AS-9"); len(got) != 0 {
		t.Errorf("unknown subscription: %+v", got)
	}
}
