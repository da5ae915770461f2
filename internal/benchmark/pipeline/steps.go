package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// stepUp offers higher and higher rates (stepper) and returns the highest one a step sustained, and
// whether some step failed (without a failure the figure is only a lower bound).
func (r *run) stepUp(ctx context.Context) (float64, bool, error) {
	c := r.cfg
	st := newStepper(c.StartRate, c.StepFactor, c.Refine, c.MaxSteps)
	r.log.Printf("stepping the rate up from %.0f events/s (×%.2g per step passed, then %d bisections), %v per step; "+
		"a step fails on ingest p99 > %v, a 503 or any failed request, a rejected event, or a consumer backlog growing for %v",
		c.StartRate, c.StepFactor, c.Refine, c.StepDuration, c.P99Limit, c.GrowthWindow)
	r.log.Printf("(a step lasts long enough for %d requests of %d events, up to twice its duration, so that its p99 is not just "+
		"its slowest request; a failed step is tried %d more time(s) before its rate counts as failed)", minStepRequests, c.Batch, c.Retries)
	for n := 1; ; n++ {
		rate, ok := st.Next()
		if !ok {
			break
		}
		pass := r.tryRate(ctx, n, rate)
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		st.Record(rate, pass)
	}
	if st.Sustained() == 0 {
		return 0, false, errors.New("pipeline: no step sustained its rate")
	}
	if !st.Saturated() {
		r.log.Printf("no step failed up to %.0f events/s: the sustained rate is a lower bound (raise --max-steps)", st.Sustained())
	}
	return st.Sustained(), st.Saturated(), nil
}

// tryRate runs step n at rate, and runs it again up to the configured retries while it fails: a rate fails
// only when every try fails, so that a burst of other work on a shared machine does not end the search.
// Each try prints its line.
func (r *run) tryRate(ctx context.Context, n int, rate float64) bool {
	for try := 0; try <= r.cfg.Retries && ctx.Err() == nil; try++ {
		f, cpu := r.step(ctx, rate)
		if ctx.Err() != nil {
			return false
		}
		pass, why := judge(f, limits{p99: r.cfg.P99Limit, window: r.cfg.GrowthWindow})
		verdict := "sustained"
		switch {
		case !pass && try < r.cfg.Retries:
			verdict = "failed: " + strings.Join(why, "; ") + "; trying again"
		case !pass:
			verdict = "NOT sustained: " + strings.Join(why, "; ")
		}
		name := fmt.Sprintf("step %d", n)
		if try > 0 {
			name += fmt.Sprintf(" (try %d)", try+1)
		}
		r.log.Printf("%s: %.0f events/s for %v (%d requests): ingest p50 %.1f ms p99 %.1f ms max %.1f ms (send lag p99 %.1f ms), "+
			"%d requests failed, backlog max %.1f s, %s; %s → %s", name, rate, stepDuration(r.cfg, rate), f.ingest.n,
			ms(f.ingest.p50), ms(f.ingest.p99), ms(f.ingest.max), ms(f.sendLag.p99), f.failures, maxLag(f.backlog).Seconds(),
			r.drain(ctx), cpu, verdict)
		if pass {
			return true
		}
	}
	return false
}

// minStepRequests is the fewest requests a step makes: its p99 is then not simply its slowest request.
const minStepRequests = 200

// stepDuration is how long a step at rate lasts: the step duration, longer if it would make fewer than
// minStepRequests requests, but twice the step duration at most.
func stepDuration(c Config, rate float64) time.Duration {
	least := time.Duration(float64(minStepRequests*c.Batch) / rate * float64(time.Second))
	return min(max(c.StepDuration, least.Round(time.Second)), 2*c.StepDuration)
}

// step offers rate for the step duration and returns its figures and the processes' CPU use.
func (r *run) step(ctx context.Context, rate float64) (stepFigures, string) {
	before, from := r.sys.usages(), time.Now()
	ph := r.load.run(ctx, rate, stepDuration(r.cfg, rate))
	after, to := r.sys.usages(), time.Now()
	f := stepFigures{rate: rate, ingest: summarise(ph.latency), sendLag: summarise(ph.sendLag), failures: ph.failures, statuses: ph.statuses,
		rejected: ph.rejected, backlog: r.watch.between(from, to)}
	for _, rej := range ph.rejections {
		r.log.Printf("rejected: %s", rej)
	}
	return f, cpuShares(before, after, to.Sub(from))
}

// cpuShares is "CPU nats 40%, ingest 35%, …": each process's CPU time over the wall time between two reads.
func cpuShares(before, after []usage, wall time.Duration) string {
	was := map[string]time.Duration{}
	for _, u := range before {
		was[u.name] = u.cpu
	}
	parts := make([]string, 0, len(after))
	for _, u := range after {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", u.name, 100*(u.cpu-was[u.name]).Seconds()/wall.Seconds()))
	}
	return "CPU " + strings.Join(parts, ", ")
}

// drain waits until the committed backlog is gone (a sample taken after the call shows no lag), at most
// the drain timeout, and says how long it took.
func (r *run) drain(ctx context.Context) string {
	from := time.Now()
	deadline := from.Add(r.cfg.DrainTimeout)
	for time.Now().Before(deadline) {
		if s, ok, _ := r.watch.last(); ok && s.at.After(from) && s.lag == 0 {
			return fmt.Sprintf("drained in %.1f s", s.at.Sub(from).Seconds())
		}
		if !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			return "cancelled"
		}
	}
	_, _, err := r.watch.last()
	return fmt.Sprintf("NOT drained after %v (last backlog read error: %v)", r.cfg.DrainTimeout, err)
}
