package aggregate

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestRemembersAgreesWithTheFold: a copy of an event is a duplicate exactly when Remembers says the first
// copy is still remembered at its arrival.
func TestRemembersAgreesWithTheFold(t *testing.T) {
	cfg := testConfig(t)
	cfg.DedupHorizon = 8 * time.Minute // generations of 1 minute
	first := t0.Add(90 * time.Second)
	for _, later := range []time.Duration{time.Minute, 8 * time.Minute, 8*time.Minute + 29*time.Second,
		8*time.Minute + 30*time.Second, 9 * time.Minute, 20 * time.Minute} {
		s := New(cfg)
		var out Output
		e := ev("x", "AS-1", "SUM", t0.Add(time.Minute), "1")
		s.Apply(1, first, []events.Event{e}, &out)
		at := first.Add(later)
		e.Time = at.Add(-time.Second) // an on-time copy of its period or a late one: it folds either way
		s.Apply(2, at, []events.Event{e}, &out)
		dup := s.Stats().Duplicates == 1
		if want := Remembers(cfg.DedupHorizon, first, at); dup != want {
			t.Errorf("copy %v later: fold says duplicate %v, Remembers %v", later, dup, want)
		}
	}
}
