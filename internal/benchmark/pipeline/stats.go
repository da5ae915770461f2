package pipeline

import (
	"math"
	"slices"
	"time"
)

// percentile is the q-quantile (0 < q ≤ 1) of sorted values by the nearest-rank method: the smallest value
// such that at least a share q of the values are at or below it. It is 0 for no values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencies summarises durations: p50, p99 and the maximum, in one sort.
type latencies struct {
	n             int
	p50, p99, max time.Duration
}

func summarise(ds []time.Duration) latencies {
	s := slices.Clone(ds)
	slices.Sort(s)
	l := latencies{n: len(s), p50: percentile(s, 0.50), p99: percentile(s, 0.99)}
	if len(s) > 0 {
		l.max = s[len(s)-1]
	}
	return l
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
