package aggregate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// adj is the expected adjustment of one late packet; a zero adj means none.
type adj struct {
	rev           int
	mode          events.ValueMode
	qty, previous string
	events        int64
}

func (a adj) String() string {
	return fmt.Sprintf("rev %d %s %s prev %s events %d", a.rev, a.mode, a.qty, a.previous, a.events)
}

func TestAdjustments(t *testing.T) {
	u := func(v string) func(*events.Event) { return withAttr("user", v) }
	d, r := events.ModeDelta, events.ModeReplace
	tests := []struct {
		name   string
		item   string
		onTime []events.Event
		late   [][]events.Event
		want   []adj
	}{
		{"sum", "SUM", []events.Event{ev("a", "S", "SUM", mins(1), "3")},
			[][]events.Event{{ev("b", "S", "SUM", mins(2), "2"), ev("c", "S", "SUM", mins(3), "0.5")}, {ev("d", "S", "SUM", mins(4), "1")}},
			[]adj{{1, d, "2.5", "<nil>", 2}, {2, d, "1", "<nil>", 1}}},
		{"count", "CNT", []events.Event{ev("a", "S", "CNT", mins(1), "3")},
			[][]events.Event{{ev("b", "S", "CNT", mins(2), "2"), ev("c", "S", "CNT", mins(3), "9")}},
			[]adj{{1, d, "2", "<nil>", 2}}},
		{"unique_count", "UNQ", []events.Event{ev("a", "S", "UNQ", mins(1), "1", u("u1")), ev("b", "S", "UNQ", mins(1), "1", u("u2"))},
			[][]events.Event{{ev("c", "S", "UNQ", mins(2), "1", u("u1"))}, {ev("d", "S", "UNQ", mins(2), "1", u("u3")), ev("e", "S", "UNQ", mins(2), "1", u("u3")), ev("f", "S", "UNQ", mins(2), "1", u("u4"))}},
			[]adj{{}, {1, d, "2", "<nil>", 3}}},
		{"max", "MAX", []events.Event{ev("a", "S", "MAX", mins(1), "5")},
			[][]events.Event{{ev("b", "S", "MAX", mins(2), "4")}, {ev("c", "S", "MAX", mins(2), "7"), ev("d", "S", "MAX", mins(2), "6")}, {ev("e", "S", "MAX", mins(2), "8")}},
			[]adj{{}, {1, r, "7", "5", 2}, {2, r, "8", "7", 1}}},
		{"min", "MIN", []events.Event{ev("a", "S", "MIN", mins(1), "5")},
			[][]events.Event{{ev("b", "S", "MIN", mins(2), "6")}, {ev("c", "S", "MIN", mins(2), "2")}},
			[]adj{{}, {1, r, "2", "5", 1}}},
		{"last", "LAST", []events.Event{ev("a", "S", "LAST", mins(30), "1")},
			[][]events.Event{{ev("b", "S", "LAST", mins(20), "9")}, {ev("c", "S", "LAST", mins(40), "1")}, {ev("d", "S", "LAST", mins(50), "3")}},
			[]adj{{}, {}, {1, r, "3", "1", 1}}},
		{"first event late: sum", "SUM", nil,
			[][]events.Event{{ev("b", "S", "SUM", mins(2), "2")}},
			[]adj{{1, d, "2", "<nil>", 1}}},
		{"first event late: max", "MAX", nil,
			[][]events.Event{{ev("b", "S", "MAX", mins(2), "4")}, {ev("c", "S", "MAX", mins(2), "3")}},
			[]adj{{1, r, "4", "<nil>", 1}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(t))
			if len(tt.onTime) > 0 {
				h.apply(mins(1), tt.onTime...)
			}
			closed := h.tick(mins(70)).Closed
			if (len(closed) == 1) != (len(tt.onTime) > 0) {
				t.Fatalf("closed %+v", closed)
			}
			for i, p := range tt.late {
				out := h.apply(mins(80+float64(i)), p...)
				var got adj
				if len(out.Adjustments) > 1 {
					t.Fatalf("late packet %d: %d adjustments", i, len(out.Adjustments))
				}
				if len(out.Adjustments) == 1 {
					a := out.Adjustments[0]
					got = adj{a.Revision, a.Mode, a.Quantity.String(), decStr(a.Previous), a.Events}
					checkAdjustment(t, a, p, h.seq)
				}
				if got != tt.want[i] {
					t.Errorf("late packet %d: %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func checkAdjustment(t *testing.T, a events.PeriodRecord, p []events.Event, seq uint64) {
	t.Helper()
	var dg events.Digest
	for _, e := range p {
		dg.Add(e.Key())
	}
	if a.Kind != events.RecordAdjustment || a.Digest != dg.String() || a.SourceSeq != seq || !a.PeriodStart.Equal(t0) {
		t.Errorf("adjustment %+v: want kind adjustment, digest %s, source seq %d, period %v", a, dg, seq, t0)
	}
}

func TestAdjustmentAmounts(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(1), ev("a", "S", "", mins(1), "1", withCost("", "0.5")))
	closeAt := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if r := closedOf(t, h.tick(closeAt), "S", "COST"); decStr(r.Amount) != "0.5" {
		t.Fatalf("closed amount %s", decStr(r.Amount))
	}
	out := h.apply(closeAt.Add(time.Minute), ev("b", "S", "", mins(2), "2", withCost("", "0.25")), ev("c", "S", "", mins(3), "1", withCost("", "1")))
	a := adjustmentOf(t, out, "S", "COST")
	if a.Quantity.String() != "3" || decStr(a.Amount) != "1.25" || a.Revision != 1 || a.Events != 2 {
		t.Errorf("adjustment %+v", a)
	}
}

func TestAdjustmentsSortedAndOnePerKey(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(1), ev("a", "S2", "SUM", mins(1), "1"), ev("b", "S1", "SUM", mins(1), "1"))
	h.tick(mins(70))
	out := h.apply(mins(80), ev("c", "S2", "SUM", mins(1), "1"), ev("d", "S1", "SUM", mins(1), "1"),
		ev("e", "S2", "SUM", mins(2), "1"), ev("f", "S1", "MAX", mins(2), "1"))
	var got []string
	for _, a := range out.Adjustments {
		got = append(got, fmt.Sprintf("%s/%s=%s", a.Subscription, a.Item, a.Quantity))
	}
	if fmt.Sprint(got) != "[S1/MAX=1 S1/SUM=1 S2/SUM=2]" {
		t.Errorf("adjustments %v", got)
	}
}

func TestTooLateAndRetention(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(1), ev("a", "S", "SUM", mins(1), "1"))
	h.tick(mins(70))
	// PRD-QT keeps closed periods for 6h after their end: [10:00, 11:00) until 17:00.
	if out := h.apply(mins(419), ev("b", "S", "SUM", mins(2), "2")); len(out.Adjustments) != 1 {
		t.Fatalf("before the max age: %+v", out)
	}
	if st := h.s.Stats(); st.ClosedKeys != 1 || st.ClosedPeriods != 1 {
		t.Fatalf("stats %+v", st)
	}
	out := h.apply(mins(420), ev("c", "S", "SUM", mins(3), "4"))
	if len(out.Adjustments) != 0 || len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonTooLate {
		t.Fatalf("at the max age: %+v", out)
	}
	if st := h.s.Stats(); st.ClosedKeys != 0 || st.ClosedPeriods != 0 {
		t.Fatalf("closed period kept past its max age: %+v", st)
	}
}

// TestTooOldBeforeMarkFrom: an event of a period that closed before marks started (end + allowed lateness ≤
// MarkFrom) is a dead letter too_old, since no partition marks that period; the first period marked takes its
// events. The first period of a cursor stays where it started when the lateness changes, and a contract added
// later starts where MarkFrom and the new lateness put it, as in every partition.
func TestTooOldBeforeMarkFrom(t *testing.T) {
	cfg := testConfig(t)
	cfg.MarkFrom = mins(-50) // 09:10: PRD-QT's [08:00, 09:00) closed at 09:10 exactly
	h := newHarness(t, cfg)
	out := h.apply(mins(1), ev("a", "S", "SUM", mins(-61), "1"), ev("b", "S", "SUM", mins(-60), "2"))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonTooOld || !strings.Contains(string(out.DeadLetters[0].OriginalPayload()), `"id":"a"`) {
		t.Fatalf("dead letters %+v", out.DeadLetters)
	}
	out = h.tick(mins(10))
	if r := closedOf(t, out, "S", "SUM"); r.Quantity.String() != "2" || !strings.Contains(markList(out.Marks), "PRD-QT/CRD-A/25T09=1") {
		t.Fatalf("record %+v, marks %q", r, markList(out.Marks))
	}
	h.restoreWith(changedConfig(cfg, editedCatalog(t, "contracts: [CRD-A]\n    period: {kind: fixed, every: 1h}\n    allowed_lateness: 10m",
		"contracts: [CRD-A, CRD-A2]\n    period: {kind: fixed, every: 1h}\n    allowed_lateness: 2h")))
	// With 2h of lateness, CRD-A2's first period is [07:00, 08:00), which closes at 10:00, after MarkFrom.
	if got := markList(h.tick(mins(11)).Marks); got != "PRD-QT/CRD-A2/25T07=0" {
		t.Errorf("marks of the new contract %q", got)
	}
	out = h.apply(mins(12), ev("c", "S", "SUM", mins(-150), "1"), ev("d", "S", "SUM", mins(-150), "1", contractA2),
		ev("e", "S", "SUM", mins(-200), "1", contractA2))
	var reasons []string
	for _, dl := range out.DeadLetters {
		reasons = append(reasons, string(dl.Reason))
	}
	if fmt.Sprint(reasons) != "[too_old too_old]" || len(out.Adjustments) != 1 || out.Adjustments[0].Contract != "CRD-A2" {
		t.Errorf("dead letters %v, adjustments %+v", reasons, out.Adjustments)
	}
}

func contractA2(e *events.Event) { e.Data.Contract = "CRD-A2" }
