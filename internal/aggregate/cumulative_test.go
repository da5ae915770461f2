package aggregate

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// cum is a cumulative point of series at time at with running total, the series started at start; its id
// is the series and time, as OTLP ingest makes it.
func cum(series string, start, at time.Time, total string) events.Event {
	e := ev(series+"@"+at.Format(time.RFC3339Nano), "S", "SUM", at, total)
	e.Data.Cumulative = &events.Cumulative{Series: series, Start: start}
	return e
}

// A series' running totals become deltas: each point counts what its total adds to the previous point's,
// in the period of its time; a restart of the producer (a new start time: a new series) counts its totals
// from zero; a resent point, a point older than the series' last one and a point that adds nothing count
// nothing; a snapshot and restore anywhere changes nothing.
func TestCumulativeSeriesCountDeltas(t *testing.T) {
	for _, restore := range []bool{false, true} {
		h := newHarness(t, testConfig(t))
		step := func() {
			if restore {
				h.restore()
			}
		}
		s1 := mins(1)
		h.apply(mins(2), cum("a", s1, mins(2), "5"))
		step()
		h.apply(mins(3), cum("a", s1, mins(3), "8"), cum("a", s1, mins(3), "8")) // 3 more, the resend nothing
		step()
		h.apply(mins(4), cum("a", s1, mins(2.5), "6")) // older than the last point: covered by it
		h.apply(mins(5), cum("a", s1, mins(5), "8"))   // adds nothing
		step()
		s2 := mins(6) // the producer restarted: the series starts again from zero
		h.apply(mins(7), cum("a2", s2, mins(7), "4"))
		h.apply(mins(8), cum("a2", s2, mins(7), "4")) // the exporter's retry
		out := h.tick(mins(70))
		if r := closedOf(t, out, "S", "SUM"); r.Quantity.String() != "12" || r.Events != 3 {
			t.Errorf("restore=%v: quantity %s from %d events, want 12 (8 + 4) from 3", restore, r.Quantity, r.Events)
		}
		if out.Len() != len(out.Closed)+len(out.Marks) {
			t.Errorf("restore=%v: unexpected output %+v", restore, out)
		}
	}
}

// A point that arrives after its period closed counts its delta as an adjustment of that period; the next
// point counts from it.
func TestCumulativeLatePointAdjusts(t *testing.T) {
	h := newHarness(t, testConfig(t))
	start := mins(1)
	h.apply(mins(2), cum("a", start, mins(2), "5"))
	h.tick(mins(70)) // the first hour closes with 5
	out := h.apply(mins(71), cum("a", start, mins(50), "7"))
	if len(out.Adjustments) != 1 || out.Adjustments[0].Quantity.String() != "2" {
		t.Fatalf("late point: %+v, want an adjustment of 2", out)
	}
	h.apply(mins(72), cum("a", start, mins(72), "10"))
	if r := closedOf(t, h.tick(mins(135)), "S", "SUM"); r.Quantity.String() != "3" {
		t.Errorf("second hour: %s, want 3", r.Quantity)
	}
}

// A total lower than the series' previous one without a new start time is a dead letter
// (cumulative_decrease), and the series counts on from it.
func TestCumulativeDecreaseIsADeadLetter(t *testing.T) {
	h := newHarness(t, testConfig(t))
	start := mins(1)
	h.apply(mins(2), cum("a", start, mins(2), "5"))
	out := h.apply(mins(3), cum("a", start, mins(3), "2"))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonCumulativeDecrease {
		t.Fatalf("decrease: %+v", out)
	}
	h.apply(mins(4), cum("a", start, mins(4), "3"))
	if r := closedOf(t, h.tick(mins(70)), "S", "SUM"); r.Quantity.String() != "6" {
		t.Errorf("quantity %s, want 6 (5, then 1 after the decrease)", r.Quantity)
	}
}

// Series are forgotten once their last point's period is past the max event age (any older point is
// too_late by then); a series that comes back after that with a start older than the max event age only
// sets its baseline (cumulative_baseline), so a forgotten series is never counted twice.
func TestCumulativeForgottenSeriesIsNotCountedTwice(t *testing.T) {
	h := newHarness(t, testConfig(t)) // PRD-QT: hourly periods, max event age 6h
	start := mins(1)
	h.apply(mins(2), cum("a", start, mins(2), "5"))
	if h.s.Stats().Series != 1 {
		t.Fatalf("series %d, want 1", h.s.Stats().Series)
	}
	h.tick(mins(60 + 6*60)) // the first hour's end + 6h
	if h.s.Stats().Series != 0 {
		t.Fatalf("series %d after the max event age, want 0", h.s.Stats().Series)
	}
	h.restore()
	at := mins(60 + 6*60 + 1)
	out := h.apply(at, cum("a", start, at, "9"))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonCumulativeBaseline {
		t.Fatalf("point of a forgotten series: %+v", out)
	}
	h.apply(at.Add(time.Minute), cum("a", start, at.Add(time.Minute), "10"))
	out = h.tick(at.Add(2 * time.Hour))
	if r := closedOf(t, out, "S", "SUM"); r.Quantity.String() != "1" {
		t.Errorf("quantity %s after the baseline, want 1", r.Quantity)
	}
}

// Another source's series of the same name is another series: a producer cannot move another's baseline.
func TestCumulativeSeriesArePerSource(t *testing.T) {
	h := newHarness(t, testConfig(t))
	start := mins(1)
	other := cum("a", start, mins(30), "100")
	other.Source = "intruder"
	h.apply(mins(2), cum("a", start, mins(2), "5"), other)
	h.apply(mins(3), cum("a", start, mins(3), "8"))
	if r := closedOf(t, h.tick(mins(70)), "S", "SUM"); r.Quantity.String() != "108" {
		t.Errorf("quantity %s, want 108 (8 + the intruder's own 100)", r.Quantity)
	}
}
