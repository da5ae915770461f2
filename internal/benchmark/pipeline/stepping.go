package pipeline

import (
	"fmt"
	"math"
	"time"
)

// stepper chooses the offered rate of each step: it multiplies the rate by factor after every pass until a
// step fails, divides it by factor while nothing has passed yet, and then bisects `refine` times between the
// highest pass and the lowest failure above it. At most maxSteps steps are made.
type stepper struct {
	factor   float64
	refine   int
	maxSteps int

	next     float64
	pass     float64 // highest rate that passed; 0: none yet
	fail     float64 // lowest rate that failed above pass; 0: none yet
	steps    int
	bisected int
}

func newStepper(start, factor float64, refine, maxSteps int) *stepper {
	return &stepper{factor: factor, refine: refine, maxSteps: maxSteps, next: math.Round(start)}
}

// minRate is the lowest rate a step offers: below it the search gives up.
const minRate = 1

// Next returns the rate of the next step, or false when the search is over.
func (s *stepper) Next() (float64, bool) {
	if s.steps >= s.maxSteps || s.next < minRate {
		return 0, false
	}
	if s.pass > 0 && s.fail > 0 && s.bisected >= s.refine {
		return 0, false
	}
	return s.next, true
}

// Record takes the outcome of the step at rate and chooses the next rate.
func (s *stepper) Record(rate float64, ok bool) {
	s.steps++
	if s.pass > 0 && s.fail > 0 {
		s.bisected++
	}
	switch {
	case ok && rate > s.pass:
		s.pass = rate
	case !ok && (s.fail == 0 || rate < s.fail):
		s.fail = rate
	}
	switch {
	case s.fail == 0:
		s.next = math.Round(s.pass * s.factor)
	case s.pass == 0:
		s.next = math.Floor(s.fail / s.factor)
	default:
		s.next = math.Round((s.pass + s.fail) / 2)
		if s.next <= s.pass || s.next >= s.fail { // adjacent rates: nothing left to bisect
			s.bisected = s.refine
		}
	}
}

// Sustained is the highest rate that passed (0: none).
func (s *stepper) Sustained() float64 { return s.pass }

// Saturated reports whether some step failed: without a failure, Sustained is only a lower bound.
func (s *stepper) Saturated() bool { return s.fail > 0 }

// backlogSample is the committed backlog at one instant: the largest lag of any partition.
type backlogSample struct {
	at  time.Time
	lag time.Duration
}

// growingFor reports whether the backlog grew for window among samples (in time order), and when it was
// seen: at some sample, the lag is above its value a quarter of the window earlier, which is above its value
// half the window earlier, and so on back to a whole window earlier; and over the window it grew by a tenth
// of the window at least (the consumer runs below 90 % of the input rate) and by minGrowth at least (the
// noise of commit intervals). A burst at a period's close, a few seconds long, is not growth for the window.
// Each point's value is the latest sample at or before it; without a sample a window back, nothing grew.
func growingFor(samples []backlogSample, window time.Duration) (bool, time.Time) {
	grown := max(window/10, minGrowth)
	for i, s := range samples {
		prev, ok := s, true
		for q := 1; q <= 4 && ok; q++ {
			var p backlogSample
			p, ok = sampleAt(samples[:i], s.at.Add(-time.Duration(q)*window/4))
			ok = ok && p.lag < prev.lag
			prev = p
		}
		if ok && s.lag-prev.lag >= grown {
			return true, s.at
		}
	}
	return false, time.Time{}
}

// minGrowth is the least growth of the backlog that counts, whatever the window.
const minGrowth = time.Second

// sampleAt is the latest sample at or before t.
func sampleAt(samples []backlogSample, t time.Time) (backlogSample, bool) {
	for i := len(samples) - 1; i >= 0; i-- {
		if !samples[i].at.After(t) {
			return samples[i], true
		}
	}
	return backlogSample{}, false
}

// stepFigures are what one step measured.
type stepFigures struct {
	rate     float64 // offered events/s
	ingest   latencies
	sendLag  latencies       // how late the generator sent (part of ingest's latency, which counts from the schedule)
	failures int             // requests not answered 200 (503s included)
	statuses map[int]int     // their HTTP statuses; 0 is a transport error or timeout
	rejected int             // events ingest rejected in 200 answers
	backlog  []backlogSample // during the step
}

// limits are a step's pass conditions.
type limits struct {
	p99    time.Duration
	window time.Duration
}

// judge reports whether a step sustained its rate, and every reason it did not.
func judge(f stepFigures, l limits) (bool, []string) {
	var why []string
	if f.ingest.p99 > l.p99 {
		why = append(why, fmt.Sprintf("ingest p99 %.1f ms > %.0f ms", ms(f.ingest.p99), ms(l.p99)))
	}
	if n := f.statuses[503]; n > 0 {
		why = append(why, fmt.Sprintf("%d answers 503", n))
	}
	if n := f.failures - f.statuses[503]; n > 0 {
		why = append(why, fmt.Sprintf("%d requests failed otherwise (%v)", n, f.statuses))
	}
	if f.rejected > 0 {
		why = append(why, fmt.Sprintf("%d events rejected", f.rejected))
	}
	if grew, _ := growingFor(f.backlog, l.window); grew {
		why = append(why, fmt.Sprintf("consumer backlog growing for %v", l.window))
	}
	return len(why) == 0, why
}
