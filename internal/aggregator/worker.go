package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Worker is one member of the aggregator group: it keeps its membership alive, holds the leases of the
// partitions it should own and runs one partition runner per held lease. Build it with New; Run it once.
type Worker struct {
	conn   Bus
	opts   Options
	deps   *deps
	kv     leaseKV
	held   map[int]*heldPartition
	health healthView // what the heartbeat reads of held (health.go)
}

// heldPartition is a lease this worker holds and the runner working under it (nil between runs).
type heldPartition struct {
	lease     lease
	run       *runHandle
	restartAt time.Time
}

// restartDelay is how long a worker waits before restarting a runner that stopped on its own (fenced, error).
const restartDelay = time.Second

// restartDelayAfter is how long to wait before restarting a runner that returned err.
func restartDelayAfter(err error) time.Duration {
	if errors.Is(err, ErrReplayGap) || errors.Is(err, ErrFoldConfigMissing) {
		return replayGapRetry
	}
	return restartDelay
}

// shutdownTimeout bounds the final commits and lease releases when Run's context ends.
const shutdownTimeout = 5 * time.Second

// New returns a worker over conn (the streams, buckets and object store must be provisioned). It is the same
// code cmd/aggregator runs; `usagepipe dev` runs it in-process.
func New(conn Bus, opts Options) (*Worker, error) {
	d, err := newDeps(conn, opts)
	if err != nil {
		return nil, err
	}
	return &Worker{conn: conn, opts: d.opts, deps: d, held: map[int]*heldPartition{}}, nil
}

// Run works until ctx ends, then commits what its runners have pending, releases its leases and leaves the
// group. It returns nil after a clean shutdown (also when ctx ends while it starts), or an error if its fold
// configuration cannot be built; failures of the bus while it starts are retried.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing to commit or release
		}
		return fmt.Errorf("aggregator: %w", err)
	}
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFeed() // after leave: the runners' final commits do not need it
	go w.deps.feed.run(feedCtx)
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); w.runHeartbeat(hbCtx) }()
	defer func() { stopHeartbeat(); <-hbDone }() // after leave: the heartbeat goes once the leases are released
	w.deps.log.InfoContext(ctx, "aggregator worker started", "partitions", w.opts.Partitions, "mark_from", w.deps.markFrom,
		"config", w.deps.configs.current.digest)
	for _, warning := range w.opts.Warnings() {
		w.deps.log.WarnContext(ctx, warning)
	}
	t := time.NewTicker(w.opts.Heartbeat)
	defer t.Stop()
	for {
		w.step(ctx, w.opts.Now())
		select {
		case <-ctx.Done():
			w.leave()
			return nil
		case <-t.C:
		}
	}
}

// step is one heartbeat: announce this member, then for each partition release, renew or acquire its lease.
func (w *Worker) step(ctx context.Context, now time.Time) {
	if err := heartbeat(ctx, w.kv, w.opts.MemberID, now, w.opts.LeaseTTL); err != nil {
		w.deps.log.WarnContext(ctx, "heartbeat failed", "err", err)
	}
	members, err := liveMembers(ctx, w.kv, w.opts.MemberID, now)
	if err != nil {
		w.deps.log.WarnContext(ctx, "reading members failed; only renewing leases", "err", err)
	}
	for p := range w.opts.Partitions {
		mine := members != nil && desiredOwner(members, p) == w.opts.MemberID
		switch h := w.held[p]; {
		case h != nil && members != nil && !mine:
			w.release(ctx, p, "rebalance")
		case h != nil:
			w.renew(ctx, p, now)
		case mine:
			w.acquire(ctx, p, now)
		}
	}
	w.publishHealth()
}

// acquire takes the partition's lease and starts its runner.
func (w *Worker) acquire(ctx context.Context, p int, now time.Time) {
	l, err := acquireLease(ctx, w.kv, p, w.opts.MemberID, now, w.opts.LeaseTTL)
	if err != nil {
		if !errors.Is(err, errLeaseTaken) && !leaseLost(err) {
			w.deps.log.WarnContext(ctx, "lease acquisition failed", "partition", p, "err", err)
		}
		return
	}
	w.deps.log.InfoContext(ctx, "partition acquired", "partition", p)
	w.held[p] = &heldPartition{lease: l, run: startRunner(ctx, w.deps, p)}
	w.deps.ins.owned.Add(ctx, 1)
}

// renew extends a held lease and restarts its runner if it stopped; a lost or expired lease stops it.
func (w *Worker) renew(ctx context.Context, p int, now time.Time) {
	h := w.held[p]
	l, err := renewLease(ctx, w.kv, p, w.opts.MemberID, h.lease, now, w.opts.LeaseTTL)
	switch {
	case err == nil:
		h.lease = l
	case leaseLost(err) || !now.Before(h.lease.expires):
		w.deps.log.WarnContext(ctx, "partition lease lost", "partition", p, "err", err)
		w.stopRunner(p)
		delete(w.held, p)
		w.deps.ins.owned.Add(ctx, -1)
		return
	default:
		w.deps.log.WarnContext(ctx, "lease renewal failed; retrying", "partition", p, "err", err)
	}
	w.restartIfStopped(ctx, p, now)
}

// restartIfStopped restarts a runner that ended on its own (fenced, ambiguous commit, read error) after a delay.
func (w *Worker) restartIfStopped(ctx context.Context, p int, now time.Time) {
	h := w.held[p]
	if h.run != nil && !h.run.stopped() {
		return
	}
	if h.run != nil {
		h.run, h.restartAt = nil, now.Add(restartDelayAfter(h.run.err))
		return
	}
	if !now.Before(h.restartAt) {
		h.run = startRunner(ctx, w.deps, p)
	}
}

// release stops the partition's runner (which commits what it has pending) and then deletes the lease.
func (w *Worker) release(ctx context.Context, p int, why string) {
	h := w.held[p]
	w.stopRunner(p)
	delete(w.held, p)
	w.deps.ins.owned.Add(ctx, -1)
	if err := releaseLease(ctx, w.kv, p, h.lease); err != nil && !leaseLost(err) {
		w.deps.log.WarnContext(ctx, "lease release failed (it will expire)", "partition", p, "err", err)
	}
	w.deps.log.InfoContext(ctx, "partition released", "partition", p, "why", why)
}

func (w *Worker) stopRunner(p int) {
	if h := w.held[p]; h != nil && h.run != nil {
		h.run.stop()
		h.run = nil
	}
}

// leave stops every runner, releases every lease and removes the member key, on a fresh context.
func (w *Worker) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for p := range w.held {
		w.release(ctx, p, "shutdown")
	}
	if err := w.kv.Delete(ctx, memberKeyPrefix+w.opts.MemberID, 0); err != nil {
		w.deps.log.WarnContext(ctx, "leaving the group failed (the heartbeat will expire)", "err", err)
	}
	w.deps.log.InfoContext(ctx, "aggregator worker stopped")
}
