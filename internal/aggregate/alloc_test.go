package aggregate

import (
	"fmt"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestApplySteadyStateAllocatesNothing checks the steady state of the fold with testing.AllocsPerRun: once the
// keys exist (and, for traced events, their period's trace set is full), applying packets of events with new
// ids to them allocates nothing: untraced quantities, untraced amounts (CR), and traced events with new trace
// contexts. The dedup table has room for the measured packets, so it does not grow.
func TestApplySteadyStateAllocatesNothing(t *testing.T) {
	tests := []struct {
		name   string
		traced bool
		opts   []func(*events.Event)
	}{
		{"untraced quantities", false, nil},
		{"untraced amounts", false, []func(*events.Event){withCost("CRD-B2", "0.0125")}},
		{"traced", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if allocs := steadyStateAllocs(t, tt.traced, tt.opts...); allocs != 0 {
				t.Errorf("%v allocations per packet, want 0", allocs)
			}
		})
	}
}

// steadyStateAllocs warms a state up with packets of 64 events over 8 keys, then measures the allocations of
// more such packets, each event with a new id (a new source per packet) and, if traced, a new trace context.
func steadyStateAllocs(t *testing.T, traced bool, opts ...func(*events.Event)) float64 {
	h := newHarness(t, testConfig(t))
	const n, warmUp, runs = 64, 60, 20
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = ev(fmt.Sprint("w", i), fmt.Sprint("S", i%8), "SUM", mins(1), "1.25", opts...)
	}
	srcs := make([]string, warmUp+runs+2)
	tps := make([]string, len(srcs)*n)
	for i := range srcs {
		srcs[i] = fmt.Sprint("src-", i)
		for j := range n {
			tps[i*n+j] = tp(i*n + j)
		}
	}
	round := 0
	apply := func() {
		for i := range evs {
			evs[i].Source = srcs[round]
			if traced {
				evs[i].TraceParent = tps[round*n+i]
			}
		}
		round++
		h.seq++
		h.out.Reset()
		h.s.Apply(h.seq, mins(2), evs, &h.out)
		if h.out.Len() != 0 {
			t.Fatalf("output %+v", h.out)
		}
	}
	for range warmUp { // the keys exist and the dedup table has room for the measured rounds
		apply()
	}
	return testing.AllocsPerRun(runs, apply)
}
