package pipeline

import (
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
)

// latencies summarises durations: p50, p99 (nearest rank, harness.Percentile) and the maximum, in one sort.
type latencies struct {
	n             int
	p50, p99, max time.Duration
}

// summarise sorts a copy of ds; no durations summarise as zeros.
func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Sorted(slices.Values(ds))
	return latencies{n: len(s), p50: harness.Percentile(s, 50), p99: harness.Percentile(s, 99), max: s[len(s)-1]}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
