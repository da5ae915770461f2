package aggregate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func markList(ms []events.PartitionMark) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s/%s/%s=%d ", m.Product, m.Contract, m.PeriodStart.UTC().Format("02T15"), m.Records)
	}
	return strings.TrimSpace(b.String())
}

func TestClosingAndMarks(t *testing.T) {
	cfg := testConfig(t)
	cfg.Partition, cfg.Partitions = 1, 3
	h := newHarness(t, cfg)
	steps := []struct {
		at        time.Time
		evs       []events.Event
		wantClose int
		wantMarks string
		wantNext  time.Time
	}{
		// PRD-TR's [09,10) closes at 10:05, after MarkFrom (10:00): it is the first marked period.
		{at: mins(1), evs: []events.Event{ev("1", "AS-1", "SUM", mins(-1), "1"), ev("2", "AS-2", "SUM", mins(-2), "1")}, wantNext: mins(5)},
		{at: mins(5), wantMarks: "PRD-TR/CRD-T/25T09=0", wantNext: mins(10)},
		{at: mins(10).Add(-time.Nanosecond), wantNext: mins(10)},
		{at: mins(10), wantClose: 2, wantMarks: "PRD-QT/CRD-A/25T09=2", wantNext: mins(65)},
		{at: mins(3 * 60), wantNext: mins(3*60 + 5),
			wantMarks: "PRD-QT/CRD-A/25T10=0 PRD-QT/CRD-A/25T11=0 PRD-TR/CRD-T/25T10=0 PRD-TR/CRD-T/25T11=0"},
		{at: mins(3*60 + 5), wantMarks: "PRD-TR/CRD-T/25T12=0", wantNext: mins(3*60 + 10)},
		// PRD-CR's Madrid day Nov 25 ends at 23:00 UTC and closes an hour later, on each of its two contracts.
		{at: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), wantNext: time.Date(2026, 11, 26, 0, 5, 0, 0, time.UTC),
			wantMarks: "PRD-CR/CRD-B1/24T23=0 PRD-CR/CRD-B2/24T23=0 " + hourMarks("PRD-QT/CRD-A", 12, 22) + " " + hourMarks("PRD-TR/CRD-T", 13, 22)},
	}
	for i, st := range steps {
		var out *Output
		if st.evs != nil {
			out = h.apply(st.at, st.evs...)
		} else {
			out = h.tick(st.at)
		}
		if len(out.Closed) != st.wantClose || markList(out.Marks) != st.wantMarks {
			t.Fatalf("step %d: %d closed, marks %q; want %d, %q", i, len(out.Closed), markList(out.Marks), st.wantClose, st.wantMarks)
		}
		if !h.s.NextDue().Equal(st.wantNext) {
			t.Fatalf("step %d: next due %v, want %v", i, h.s.NextDue(), st.wantNext)
		}
		for _, m := range out.Marks {
			if m.Partition != 1 || m.Partitions != 3 || !m.PeriodEnd.After(m.PeriodStart) {
				t.Fatalf("step %d: mark %+v", i, m)
			}
		}
	}
}

func hourMarks(prefix string, from, to int) string {
	var ms []string
	for hr := from; hr <= to; hr++ {
		ms = append(ms, fmt.Sprintf("%s/25T%02d=0", prefix, hr))
	}
	return strings.Join(ms, " ")
}

func TestClosedRecordOrder(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(1),
		ev("1", "AS-2", "SUM", mins(1), "1"), ev("2", "AS-1", "SUM", mins(61), "1"), ev("3", "AS-1", "MAX", mins(1), "1"),
		ev("4", "AS-1", "SUM", mins(1), "1"), ev("5", "AS-1", "", mins(1), "1", withCost("CRD-B2", "1")),
		ev("6", "AS-1", "", mins(1), "1", withCost("CRD-B1", "1")),
	)
	out := h.tick(t0.Add(48 * time.Hour))
	var got []string
	for _, r := range out.Closed {
		got = append(got, fmt.Sprintf("%s/%s/%s/%s/%s", r.Product, r.Contract, r.PeriodStart.Format("15"), r.Subscription, r.Item))
	}
	want := []string{"PRD-CR/CRD-B1/23/AS-1/COST", "PRD-CR/CRD-B2/23/AS-1/COST", "PRD-QT/CRD-A/10/AS-1/MAX",
		"PRD-QT/CRD-A/10/AS-1/SUM", "PRD-QT/CRD-A/10/AS-2/SUM", "PRD-QT/CRD-A/11/AS-1/SUM"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
	if n := len(out.Marks); n == 0 {
		t.Fatal("no marks")
	}
	for _, m := range out.Marks {
		want := 0
		switch {
		case m.Product == "PRD-QT" && m.PeriodStart.Equal(mins(0)):
			want = 3
		case m.Product == "PRD-QT" && m.PeriodStart.Equal(mins(60)), m.Product == "PRD-CR" && m.PeriodStart.Day() == 24:
			want = 1
		}
		if m.Records != want {
			t.Errorf("mark %s/%s/%v has %d records, want %d", m.Product, m.Contract, m.PeriodStart, m.Records, want)
		}
	}
}

func TestClockNeverGoesBack(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(30), ev("1", "AS-1", "SUM", mins(1), "1"))
	h.tick(mins(20))
	if got := h.s.Clock(); !got.Equal(mins(30)) {
		t.Fatalf("clock %v, want %v", got, mins(30))
	}
	// An arrival before the clock still folds at the clock: the open period takes the event.
	if out := h.apply(mins(5), ev("2", "AS-1", "SUM", mins(2), "2")); out.Len() != 0 {
		t.Fatalf("output %+v", out)
	}
	if out := h.tick(mins(69)); len(out.Closed) != 0 {
		t.Fatalf("closed before due: %+v", out.Closed)
	}
	out := h.tick(mins(70))
	if r := closedOf(t, out, "AS-1", "SUM"); r.Quantity.String() != "3" {
		t.Errorf("quantity %s, want 3", r.Quantity)
	}
}

func TestStaleSequenceIgnored(t *testing.T) {
	h := newHarness(t, testConfig(t))
	h.apply(mins(1), ev("1", "AS-1", "SUM", mins(1), "1"))
	var out Output
	h.s.Apply(1, mins(2), []events.Event{ev("2", "AS-1", "SUM", mins(1), "5")}, &out)
	h.s.Advance(1, t0.Add(48*time.Hour), &out)
	if out.Len() != 0 || h.s.LastSeq() != 1 || !h.s.Clock().Equal(mins(1)) {
		t.Fatalf("a replayed sequence changed the state: %+v, seq %d, clock %v", out, h.s.LastSeq(), h.s.Clock())
	}
	out2 := h.tick(mins(70))
	if r := closedOf(t, out2, "AS-1", "SUM"); r.Quantity.String() != "1" {
		t.Errorf("quantity %s, want 1", r.Quantity)
	}
}

func TestMarkFromZeroStartsAtFirstArrival(t *testing.T) {
	cfg := testConfig(t)
	cfg.MarkFrom = time.Time{}
	h := newHarness(t, cfg)
	if !h.s.NextDue().IsZero() {
		t.Fatalf("next due %v before any message", h.s.NextDue())
	}
	h.tick(mins(30))
	out := h.tick(mins(70))
	if got := markList(out.Marks); got != "PRD-QT/CRD-A/25T10=0 PRD-TR/CRD-T/25T10=0" {
		t.Errorf("marks %q", got)
	}
}
