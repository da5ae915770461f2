package submitter

import (
	"context"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The open dead letters' census: the gauge usagepipe_dead_letters_open{stage,reason} counts the dead letters
// of both places (USAGE_DLQ, the aggregator's usage.agg.dlq.<p>) that are open — never replayed, refused,
// interrupted (internal/deadletter's listing with the replay logs) — by stage and reason, every reason a stage
// writes shown from zero. The counters usagepipe_dead_letters_total say what was written; the gauge what is
// still waiting for an operator, so that a replay brings it back to zero. The census is taken at the ledger
// scan's cadence (ScanInterval), and not again before ten times its last duration has passed (a large
// USAGE_DLQ costs at most a tenth of the time). Every submitter exports the same census: aggregate with max.

// censusThrottle is how many times its duration a census waits before the next one.
const censusThrottle = 10

// deadLetterCensus holds the last census.
type deadLetterCensus struct {
	mu     sync.Mutex
	counts map[censusKey]int64 // nil until a census succeeded
	next   time.Time
}

type censusKey struct{ stage, reason string }

// take counts the open letters now, unless the throttle says wait; a failure keeps the last census.
func (c *deadLetterCensus) take(ctx context.Context, read func(context.Context) (*deadletter.Listing, error)) error {
	c.mu.Lock()
	wait := time.Now().Before(c.next)
	c.mu.Unlock()
	if wait {
		return nil
	}
	start := time.Now()
	l, err := read(ctx)
	if err != nil {
		return err
	}
	counts := map[censusKey]int64{}
	for _, stage := range []string{events.StageIngest, events.StageAggregator, events.StageSubmitter} {
		for _, r := range events.StageReasons(stage) {
			counts[censusKey{stage, string(r)}] = 0
		}
	}
	for _, x := range l.Counts {
		counts[censusKey{x.Stage, string(x.Reason)}] += int64(x.Open)
	}
	c.mu.Lock()
	c.counts, c.next = counts, time.Now().Add(censusThrottle*time.Since(start))
	c.mu.Unlock()
	return nil
}

// observe reports the last census (nothing before the first).
func (c *deadLetterCensus) observe(_ context.Context, o metric.Int64Observer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.counts {
		o.Observe(n, metric.WithAttributes(attribute.String("stage", k.stage), attribute.String("reason", k.reason)))
	}
	return nil
}

// takeCensus takes the census of open dead letters (a failure is logged: the gauge keeps the last one).
func (s *Submitter) takeCensus(ctx context.Context) {
	err := s.plan.ins.census.take(ctx, func(ctx context.Context) (*deadletter.Listing, error) {
		return deadletter.Letters(ctx, s.bus, s.plan.ledger, s.opts.Catalog, deadletter.Filter{})
	})
	if err != nil && ctx.Err() == nil {
		s.opts.Logger.WarnContext(ctx, "submitter: the census of open dead letters failed (tried again at the next scan)", "err", err)
	}
}
