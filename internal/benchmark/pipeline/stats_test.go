package pipeline

import (
	"testing"
	"time"
)

// TestSummarise: nearest-rank p50 and p99, the maximum, zeros for nothing, and the input left unsorted.
func TestSummarise(t *testing.T) {
	var hundred []time.Duration
	for i := 100; i >= 1; i-- {
		hundred = append(hundred, time.Duration(i))
	}
	for _, c := range []struct {
		name   string
		values []time.Duration
		want   latencies
	}{
		{"none", nil, latencies{}},
		{"one", []time.Duration{7}, latencies{n: 1, p50: 7, p99: 7, max: 7}},
		{"1..100", hundred, latencies{n: 100, p50: 50, p99: 99, max: 100}},
		{"1..10: p99 is the maximum", hundred[90:], latencies{n: 10, p50: 5, p99: 10, max: 10}},
	} {
		if have := summarise(c.values); have != c.want {
			t.Errorf("%s: summarise = %+v, want %+v", c.name, have, c.want)
		}
	}
	if hundred[0] != 100 {
		t.Error("summarise sorted its input")
	}
}
