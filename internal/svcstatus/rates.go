package svcstatus

import (
	"sync"
	"time"
)

// RateWindow is the span rates are averaged over.
const RateWindow = time.Minute

// Rates turns running totals into per-second rates over the last RateWindow: Observe the totals from time to
// time (every heartbeat), and PerSecond answers from the oldest observation within the window.
type Rates struct {
	mu      sync.Mutex
	samples []rateSample
}

type rateSample struct {
	at     time.Time
	totals []uint64
}

// Observe records the totals at now and returns their rates per second since the oldest observation of the
// last RateWindow (zeros at the first observation).
func (r *Rates) Observe(now time.Time, totals ...uint64) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, rateSample{at: now, totals: totals})
	for len(r.samples) > 2 && now.Sub(r.samples[1].at) >= RateWindow {
		r.samples = r.samples[1:]
	}
	first := r.samples[0]
	out := make([]float64, len(totals))
	secs := now.Sub(first.at).Seconds()
	if secs <= 0 {
		return out
	}
	for i, v := range totals {
		if i < len(first.totals) && v >= first.totals[i] {
			out[i] = float64(v-first.totals[i]) / secs
		}
	}
	return out
}
