package aggregator

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// startRetry is how long a worker waits before trying its start again after a failure of the bus.
const startRetry = time.Second

// errBadFoldConfig marks a start failure that no retry can cure: the fold configuration cannot be built.
var errBadFoldConfig = errors.New("bad fold configuration")

// start opens the leases bucket and stores the fold configuration. Failures of the bus (a server restarting, a
// leader election, a timeout under load) are retried every startRetry until ctx ends; it returns ctx's error
// then, or at once the error of a configuration that cannot be built.
func (w *Worker) start(ctx context.Context) error {
	for {
		err := w.tryStart(ctx)
		if err == nil || errors.Is(err, errBadFoldConfig) || ctx.Err() != nil {
			return err
		}
		w.deps.log.WarnContext(ctx, "aggregator start failed; retrying", "err", err, "retry_in", startRetry)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(startRetry):
		}
	}
}

func (w *Worker) tryStart(ctx context.Context) error {
	kv, err := w.conn.KV(ctx, bus.BucketLeases)
	if err != nil {
		return err
	}
	if err := w.deps.setup(ctx); err != nil {
		return err
	}
	w.kv = kv
	return nil
}
