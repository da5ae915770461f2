package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
)

// errFenced: a commit found another owner's progress in place; the runner stops.
var errFenced = errors.New("fenced by another owner")

// lagEvery is how often a runner samples its partition's lag.
const lagEvery = 5 * time.Second

// runner folds one partition: it owns the partition's aggregate.State and the fence of its next commit.
type runner struct {
	*deps
	p   int
	log *slog.Logger

	state    *aggregate.State
	fence    uint64       // stream sequence of the last progress record (0: none)
	base     uint64       // the output of source messages ≤ base is committed: replay them silently
	resume   *progress    // an incomplete commit to finish once its To is applied, or nil
	applied  uint64       // last source sequence applied to state
	pend     *pending     // source messages applied since the last commit was cut
	spare    *pending     // a committed pending part, reset, for reuse
	inflight *commitJob   // the commit being stored, or nil
	snapping *snapshotJob // the snapshot being stored, or nil (snapshot_store.go)
	discard  aggregate.Output
	queries  chan query   // usage queries, answered between messages (query.go)
	stats    *runnerStats // sampled for the worker's heartbeat (health.go)

	catchUpTo   uint64    // the partition's last sequence when the runner started: no ticks before it is applied
	lastMsgAt   time.Time // wall clock of the last message received (idleness)
	lastTick    time.Time
	lastSnap    time.Time
	lastLag     time.Time
	lastApplied time.Time // stream time of the last applied message
	sinceSnap   int       // events applied since the last snapshot

	restoredAt      uint64    // the source sequence the state was restored at (0: fresh)
	replaying       bool      // the replay after restoredAt is not verified complete yet (checkReplay)
	snapSeq         uint64    // the newest snapshot known to be stored (restored or stored by this runner)
	uncoveredSince  time.Time // stream time of the first message applied after snapSeq (zero: none)
	uncoveredWarned bool
	coverRetryAt    time.Time // a failed idle snapshot is retried from then on

	failed     context.Context // the trace of the commit that stopped the runner, if one did
	foldDigest string          // the configuration r.state folds under ("": not recorded, the current one)
	plan       []foldStep      // configuration switches still ahead (history.go)
}

func newRunner(d *deps, p int) *runner {
	return &runner{deps: d, p: p, log: d.log.With("partition", p), pend: &pending{}, queries: make(chan query),
		stats: &runnerStats{}}
}

// run restores the partition, then applies messages from the worker's feed and commits until ctx ends (nil
// after a final commit) or a commit is fenced or fails.
func (r *runner) run(ctx context.Context) error {
	if err := r.start(ctx); err != nil {
		return fmt.Errorf("partition %d: start: %w", r.p, err)
	}
	inbox, unsubscribe := r.feed.subscribe(r.p, r.applied+1)
	defer unsubscribe()
	stopQueries, err := r.serveQueries()
	if err != nil {
		return fmt.Errorf("partition %d: %w", r.p, err)
	}
	defer stopQueries()
	defer r.abandonSnapshot()
	ticker := time.NewTicker(max(r.opts.CommitInterval/2, 10*time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case sm := <-inbox:
			select {
			case <-sm.ready:
			case <-ctx.Done():
				return r.flush()
			}
			if err := r.handle(ctx, sm.msg, sm.dec); err != nil {
				return err
			}
		case <-r.snapshotDone():
			r.awaitSnapshot()
		case <-r.inflightDone():
			if err := r.awaitCommit(); err != nil {
				return err
			}
			if err := r.maybeCommit(ctx); err != nil {
				return err
			}
		case <-ticker.C:
			if err := r.onTimer(ctx, r.opts.Now()); err != nil {
				return err
			}
		case q := <-r.queries:
			r.answer(q)
		case <-ctx.Done():
			return r.flush()
		}
	}
}

// handle applies one source message: silently when its output is already committed, otherwise into the
// pending commit, then commits if due (maybeCommit).
func (r *runner) handle(ctx context.Context, m bus.Msg, d decoded) error {
	if m.Seq <= r.applied {
		if d.evs != nil {
			releaseEvents(d.evs)
		}
		return nil
	}
	r.lastMsgAt = r.opts.Now()
	if err := r.applyPlan(ctx, m.Seq); err != nil {
		return err
	}
	if m.Seq <= r.base {
		r.apply(ctx, m, d, &r.discard)
		r.discard.Reset()
		return nil
	}
	r.pend.add(m, r.lastMsgAt)
	r.pend.events += r.apply(ctx, m, d, &r.pend.out)
	return r.maybeCommit(ctx)
}

// commitDue: an interrupted commit is finished exactly at its To; otherwise a commit is due by message or output
// count, or when the runner has caught up with the partition's end as of its start (a backlog's output is not
// held back for the commit interval).
func (r *runner) commitDue() bool {
	if r.pend.messages == 0 {
		return false
	}
	if r.resume != nil {
		return r.applied >= r.resume.To
	}
	return r.pend.messages >= r.opts.CommitMessages || r.pend.outputs() >= r.opts.CommitOutputs ||
		r.catchUpTo > r.base && r.applied >= r.catchUpTo
}

// pendingFull: while a commit is in flight the pending part may grow to four times the message count and twice
// the output count that make a commit due; beyond, the runner waits.
func (r *runner) pendingFull() bool {
	return r.pend.messages >= 4*r.opts.CommitMessages || r.pend.outputs() >= 2*r.opts.CommitOutputs
}

// onTimer commits by age, publishes a tick when the partition is idle and a period is due, and samples lag.
func (r *runner) onTimer(ctx context.Context, now time.Time) error {
	if r.timerCommitDue(now) {
		if err := r.startCommit(ctx); err != nil {
			return err
		}
	}
	r.maybeTick(ctx, now)
	if now.Sub(r.lastLag) >= lagEvery {
		r.lastLag = now
		r.sampleLag(ctx)
		r.sampleCoverage(ctx, now)
	}
	return r.maybeCoverIdle(ctx, now)
}

// timerCommitDue: no commit is in flight or being resumed, and the pending part is commitAge old.
func (r *runner) timerCommitDue(now time.Time) bool {
	return r.resume == nil && r.inflight == nil && r.pend.messages > 0 && now.Sub(r.pend.started) >= r.commitAge()
}

// commitAge is how old the pending part may get before the timer commits it. Closed records and marks are
// what the submitter waits for: CommitInterval. Anything else (the progress record alone, adjustments and dead
// letters of late or unusable events) waits up to ProgressCommitInterval: every commit is a fenced publish, and
// one with output an atomic batch, which costs the server far more (on an R1 file stream, a temporary file
// store synced to disk per batch), at 16 partitions most of nats-server's CPU. Waiting only delays the
// progress record (a restart re-applies at most that much more), the batch stays all or nothing, and the
// current-usage answers come from the runner's state, not from its commits.
func (r *runner) commitAge() time.Duration {
	if o := &r.pend.out; len(o.Closed)+len(o.Marks) > 0 {
		return r.opts.CommitInterval
	}
	return max(r.opts.ProgressCommitInterval, r.opts.CommitInterval)
}

// flush waits for the commit in flight, commits what is pending, waits for the snapshot being stored and covers
// the committed base with a snapshot when the runner is stopped, on a fresh context.
func (r *runner) flush() error {
	if j := r.inflight; j != nil {
		t := time.AfterFunc(shutdownTimeout, j.stop)
		defer t.Stop()
	}
	if err := r.awaitCommit(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if r.pend.messages > 0 && r.resume == nil {
		if err := r.commit(ctx); err != nil {
			return err
		}
	}
	r.awaitSnapshotUntil(ctx)
	return r.coverBase(ctx, r.opts.Now())
}
