package submitter

import (
	"context"
	"time"

	"github.com/usagepipe/usagepipe/internal/retention"
)

// retentionBus is what retention needs of the bus beyond Bus (internal/bus.Conn has it): the streams' reads,
// purges and deletes, and P as USAGE_EVENTS records it.
type retentionBus interface {
	retention.Streams
	RecordedPartitions(ctx context.Context) (int, error)
}

// retain runs a retention round every RetentionInterval until ctx ends (internal/retention: it purges only
// what no submitter, replay or restarting aggregator needs, so several submitters may run it at once). A
// failed round is logged and the next one tries again.
func (s *Submitter) retain(ctx context.Context) error {
	if s.opts.RetentionInterval <= 0 {
		return nil
	}
	rb, ok := s.bus.(retentionBus)
	if !ok {
		s.opts.Logger.Warn("submitter: retention is off: the bus cannot purge")
		return nil
	}
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	var r *retention.Retainer
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var err error
		if r == nil {
			r, err = s.retainer(ctx, rb)
		}
		if err == nil {
			var purges []retention.Purge
			purges, err = r.Run(ctx)
			s.opts.Logger.InfoContext(ctx, "submitter: retention round", "purges", len(purges))
		}
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.WarnContext(ctx, "submitter: retention round failed (tried again later)", "err", err)
		}
	}
}

// retainer builds the retention of this submitter's streams and ledger.
func (s *Submitter) retainer(ctx context.Context, rb retentionBus) (*retention.Retainer, error) {
	p, err := rb.RecordedPartitions(ctx)
	if err != nil {
		return nil, err
	}
	return retention.New(rb, s.plan.ledger, retention.Options{MinAge: s.opts.RetentionMinAge, Catalog: s.opts.Catalog,
		Partitions: p, AdjustmentsConsumer: durableAdjustments, Log: s.opts.Logger, Now: s.opts.Now})
}
