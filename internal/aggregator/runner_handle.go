package aggregator

import (
	"context"
	"errors"
)

// The worker's side of a partition runner: it starts one per held lease (startRunner) and stops it when the
// lease goes (runHandle.stop).

// runHandle controls one running partition runner.
type runHandle struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error        // why the runner returned (nil: stopped); read only once done is closed
	stats  *runnerStats // the runner's last sample (health.go)
}

// stop cancels the runner and waits until it has committed what it had pending and returned.
func (h *runHandle) stop() { h.cancel(); <-h.done }

// stopped reports whether the runner has returned (on its own or after stop).
func (h *runHandle) stopped() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// startRunner runs partition p's runner in a new goroutine until ctx ends or the runner fails.
func startRunner(ctx context.Context, d *deps, p int) *runHandle {
	ctx, cancel := context.WithCancel(ctx)
	h := &runHandle{cancel: cancel, done: make(chan struct{}), stats: &runnerStats{}}
	go func() {
		defer close(h.done)
		r := newRunner(d, p)
		r.stats = h.stats
		err := r.run(ctx)
		h.err = err
		logCtx := ctx
		if r.failed != nil {
			logCtx = r.failed // the failed commit's trace
		}
		switch {
		case err == nil:
			r.log.InfoContext(logCtx, "partition runner stopped")
		case errors.Is(err, errFenced):
			r.log.WarnContext(logCtx, "partition runner fenced: another owner committed", "err", err)
		default:
			r.log.ErrorContext(logCtx, "partition runner failed", "err", err)
		}
	}()
	return h
}
