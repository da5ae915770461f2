package pipeline

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// runStepper feeds a stepper the outcome limit (rates ≤ limit pass) and returns the rates it offered.
func runStepper(s *stepper, limit float64) []float64 {
	var rates []float64
	for {
		r, ok := s.Next()
		if !ok {
			return rates
		}
		rates = append(rates, r)
		s.Record(r, r <= limit)
	}
}

func TestStepperStepsUpThenBisects(t *testing.T) {
	s := newStepper(1000, 2, 2, 20)
	rates := runStepper(s, 3200)
	// Up ×2 until 4000 fails, then two bisections: 3000 passes, 3500 fails.
	if want := []float64{1000, 2000, 4000, 3000, 3500}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
	if s.Sustained() != 3000 || !s.Saturated() {
		t.Errorf("sustained %v, saturated %v", s.Sustained(), s.Saturated())
	}
}

func TestStepperStepsDownWhenTheFirstStepFails(t *testing.T) {
	s := newStepper(1000, 2, 1, 20)
	rates := runStepper(s, 300)
	if want := []float64{1000, 500, 250, 375}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
	if s.Sustained() != 250 {
		t.Errorf("sustained %v, want 250", s.Sustained())
	}
}

func TestStepperStopsAtMaxStepsUnsaturated(t *testing.T) {
	s := newStepper(100, 1.5, 2, 4)
	rates := runStepper(s, 1e9)
	if want := []float64{100, 150, 225, 338}; !slices.Equal(rates, want) {
		t.Errorf("rates %v, want %v", rates, want)
	}
	if s.Sustained() != 338 || s.Saturated() {
		t.Errorf("sustained %v, saturated %v", s.Sustained(), s.Saturated())
	}
}

func TestStepperGivesUpWhenNothingPasses(t *testing.T) {
	s := newStepper(8, 2, 1, 20)
	rates := runStepper(s, 0)
	if want := []float64{8, 4, 2, 1}; !slices.Equal(rates, want) || s.Sustained() != 0 {
		t.Errorf("rates %v (sustained %v), want %v and none", rates, s.Sustained(), want)
	}
}

// samples makes one backlog sample per second from t0 with the given lags in seconds.
func samples(t0 time.Time, lags ...float64) []backlogSample {
	out := make([]backlogSample, len(lags))
	for i, l := range lags {
		out[i] = backlogSample{at: t0.Add(time.Duration(i) * time.Second), lag: time.Duration(l * float64(time.Second))}
	}
	return out
}

func TestGrowingFor(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	w := 10 * time.Second
	for _, c := range []struct {
		name string
		lags []float64
		want bool
	}{
		{"kept up: commit-sized noise", []float64{0.2, 0.4, 0, 0.3, 0.2, 0.5, 0.1, 0.3, 0.2, 0.4, 0.1, 0.3, 0.2}, false},
		{"steadily behind for 10 s", []float64{0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0}, true},
		{"growing, then caught up before 10 s", []float64{0, 0.5, 1, 1.5, 2, 2.5, 0, 0, 0, 0, 0, 0}, false},
		{"too short to tell", []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"grew by less than a tenth of the window", []float64{1, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5}, false},
		{"large but steady", []float64{5, 5.1, 4.9, 5, 5.2, 4.8, 5, 5.1, 4.9, 5, 5}, false},
		{"growing in steps, after a steady start", []float64{0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5}, true},
		{"a burst at a close, after a steady start", []float64{0.3, 0.2, 0.3, 0.4, 0.3, 0.2, 0.3, 0.4, 0.3, 0.5, 0.9, 1.4}, false},
	} {
		if have, _ := growingFor(samples(t0, c.lags...), w); have != c.want {
			t.Errorf("%s: growingFor = %v, want %v", c.name, have, c.want)
		}
	}
	short := samples(t0, 0, 0.2, 0.4, 0.6, 0.8)
	if grew, _ := growingFor(short, 4*time.Second); grew {
		t.Error("a short window counted growth below a second")
	}
	if grew, _ := growingFor(samples(t0, 0, 0.1, 0.5, 0.9, 1.3), 4*time.Second); !grew {
		t.Error("a short window missed a growth of over a second")
	}
}

func TestJudgeNamesEveryReason(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	ok := stepFigures{rate: 1000, ingest: latencies{p99: 20 * time.Millisecond}, statuses: map[int]int{},
		backlog: samples(t0, 0, 0.1, 0, 0.2, 0, 0.1, 0, 0.1, 0, 0.1, 0)}
	l := limits{p99: 50 * time.Millisecond, window: 10 * time.Second}
	if pass, why := judge(ok, l); !pass {
		t.Errorf("a healthy step failed: %v", why)
	}
	bad := ok
	bad.ingest.p99 = 51 * time.Millisecond
	bad.failures, bad.statuses = 3, map[int]int{503: 2, 0: 1}
	bad.rejected = 4
	bad.backlog = samples(t0, 0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
	pass, why := judge(bad, l)
	text := strings.Join(why, "; ")
	if pass || len(why) != 5 {
		t.Errorf("judge = %v, %q: want five reasons", pass, text)
	}
	for _, want := range []string{"p99 51.0 ms > 50 ms", "2 answers 503", "1 requests failed otherwise", "4 events rejected", "growing for 10s"} {
		if !strings.Contains(text, want) {
			t.Errorf("reasons %q lack %q", text, want)
		}
	}
}

func TestStepDurationMakesEnoughRequests(t *testing.T) {
	c := DefaultConfig // 30 s steps, batches of 500
	if d := stepDuration(c, 2000); d != 50*time.Second {
		t.Errorf("2000 events/s: %v, want 50s (200 requests)", d)
	}
	if d := stepDuration(c, 500); d != time.Minute {
		t.Errorf("500 events/s: %v, want twice the step duration at most", d)
	}
	if d := stepDuration(c, 10000); d != 30*time.Second {
		t.Errorf("10000 events/s: %v, want the step duration", d)
	}
}
