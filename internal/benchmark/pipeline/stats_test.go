package pipeline

import (
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	for _, c := range []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one", []time.Duration{7}, 0.5, 7},
		{"p50 of 1..100", hundred, 0.50, 50},
		{"p99 of 1..100", hundred, 0.99, 99},
		{"p100 of 1..100", hundred, 1, 100},
		{"p99 of 1..10 is the maximum", hundred[:10], 0.99, 10},
		{"p50 of 1..10", hundred[:10], 0.50, 5},
		{"p1 of 1..100", hundred, 0.01, 1},
	} {
		if have := percentile(c.values, c.q); have != c.want {
			t.Errorf("%s: percentile(q=%v) = %v, want %v", c.name, c.q, have, c.want)
		}
	}
}

func TestSummariseSortsACopy(t *testing.T) {
	in := []time.Duration{30, 10, 20, 40}
	l := summarise(in)
	if l.n != 4 || l.p50 != 20 || l.p99 != 40 || l.max != 40 {
		t.Errorf("summarise = %+v", l)
	}
	if in[0] != 30 {
		t.Error("summarise sorted its input")
	}
}
