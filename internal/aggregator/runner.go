package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
)

// errFenced: a commit found another owner's progress in place; the runner stops.
var errFenced = errors.New("fenced by another owner")

// readBuffer is how many read messages may wait for the runner loop.
const readBuffer = 1024

// lagEvery is how often a runner samples its partition's lag.
const lagEvery = 5 * time.Second

// runHandle controls one running partition runner.
type runHandle struct {
	cancel context.CancelFunc
	done   chan struct{}
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
	h := &runHandle{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		r := newRunner(d, p)
		err := r.run(ctx)
		switch {
		case err == nil:
			r.log.Info("partition runner stopped")
		case errors.Is(err, errFenced):
			r.log.Warn("partition runner fenced: another owner committed", "err", err)
		default:
			r.log.Error("partition runner failed", "err", err)
		}
	}()
	return h
}

// runner folds one partition: it owns the partition's aggregate.State and the fence of its next commit.
type runner struct {
	*deps
	p   int
	log *slog.Logger

	state   *aggregate.State
	fence   uint64    // stream sequence of the last progress record (0: none)
	base    uint64    // the output of source messages ≤ base is committed: replay them silently
	resume  *progress // an incomplete commit to finish once its To is applied, or nil
	applied uint64    // last source sequence applied to state
	pend    pending
	discard aggregate.Output

	catchUpTo   uint64    // the partition's last sequence when the runner started: no ticks before it is applied
	lastMsgAt   time.Time // wall clock of the last message received (idleness)
	lastTick    time.Time
	lastSnap    time.Time
	lastLag     time.Time
	lastApplied time.Time // stream time of the last applied message
	sinceSnap   int       // events applied since the last snapshot
}

func newRunner(d *deps, p int) *runner {
	return &runner{deps: d, p: p, log: d.log.With("partition", p)}
}

// run restores the partition, then applies messages and commits until ctx ends (nil after a final commit)
// or a commit is fenced or fails.
func (r *runner) run(ctx context.Context) error {
	if err := r.start(ctx); err != nil {
		return fmt.Errorf("partition %d: start: %w", r.p, err)
	}
	msgs := make(chan bus.Msg, readBuffer)
	readErr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); readErr <- r.read(rctx, msgs) }()
	defer func() { cancel(); wg.Wait() }()
	ticker := time.NewTicker(max(r.opts.CommitInterval/2, 10*time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case m := <-msgs:
			if err := r.handle(ctx, m); err != nil {
				return err
			}
		case now := <-ticker.C:
			if err := r.onTimer(ctx, now); err != nil {
				return err
			}
		case err := <-readErr:
			if ctx.Err() != nil {
				return r.flush()
			}
			if err == nil {
				err = errors.New("the stream reader stopped")
			}
			return fmt.Errorf("partition %d: read: %w", r.p, err)
		case <-ctx.Done():
			return r.flush()
		}
	}
}

// read follows usage.events.<p> from the first message the restored state has not applied.
func (r *runner) read(ctx context.Context, out chan<- bus.Msg) error {
	o := bus.ReadOptions{Filters: []string{eventsSubject(r.p)}, StartSeq: r.applied + 1, Follow: true}
	return r.conn.Read(ctx, bus.StreamEvents, o, func(m bus.Msg) error {
		select {
		case out <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// handle applies one source message: silently when its output is already committed, otherwise into the
// pending commit, committing when the commit is due by size (or completes an interrupted commit).
func (r *runner) handle(ctx context.Context, m bus.Msg) error {
	if m.Seq <= r.applied {
		return nil
	}
	r.lastMsgAt = time.Now()
	if m.Seq <= r.base {
		r.apply(ctx, m, &r.discard)
		r.discard.Reset()
		return nil
	}
	r.pend.add(m, r.lastMsgAt)
	r.pend.events += r.apply(ctx, m, &r.pend.out)
	if r.commitDue(m.Seq) {
		return r.commit(ctx)
	}
	return nil
}

// commitDue: an interrupted commit is finished exactly at its To; otherwise commit by message or output count.
func (r *runner) commitDue(seq uint64) bool {
	if r.resume != nil {
		return seq >= r.resume.To
	}
	return r.pend.messages >= r.opts.CommitMessages || r.pend.outputs() >= r.opts.CommitOutputs
}

// onTimer commits by age, publishes a tick when the partition is idle and a period is due, and samples lag.
func (r *runner) onTimer(ctx context.Context, now time.Time) error {
	if r.resume == nil && r.pend.messages > 0 && now.Sub(r.pend.started) >= r.opts.CommitInterval {
		if err := r.commit(ctx); err != nil {
			return err
		}
	}
	r.maybeTick(ctx, now)
	if now.Sub(r.lastLag) >= lagEvery {
		r.lastLag = now
		r.sampleLag(ctx)
	}
	return nil
}

// flush commits what is pending when the runner is stopped, on a fresh context.
func (r *runner) flush() error {
	if r.pend.messages == 0 || r.resume != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return r.commit(ctx)
}
