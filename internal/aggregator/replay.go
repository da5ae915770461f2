package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ErrReplayGap: the source messages a runner must replay to rebuild the committed state (those after its
// snapshot, up to the committed progress) are no longer all in USAGE_EVENTS (MaxAge removed them, and no
// newer snapshot covers them). The runner refuses the partition rather than fold from a state that misses
// committed events; the worker retries it every replayGapRetry, and an operator must restore a snapshot (or
// knowingly accept the loss).
var ErrReplayGap = errors.New("replay gap: committed source messages are no longer in the event stream")

// replayGapRetry is how long a worker waits before trying again a partition refused with ErrReplayGap.
const replayGapRetry = time.Minute

// replayEnd is the last committed source message: the base, or the end of an interrupted commit.
func (r *runner) replayEnd() uint64 {
	if r.resume != nil {
		return max(r.base, r.resume.To)
	}
	return r.base
}

// checkReplay makes sure the replay of (r.restoredAt, replayEnd] is complete: the first message it needs,
// restoredAt+1, must still be in USAGE_EVENTS. MaxAge removes messages oldest first, so while that one is there
// every later one is too. It runs at start (before the replay) and again before the first commit or snapshot
// after it (a message may have aged out in between, and the ordered consumer skips missing messages silently).
func (r *runner) checkReplay(ctx context.Context) error {
	if r.restoredAt >= r.replayEnd() {
		return nil
	}
	need := r.restoredAt + 1
	_, err := r.conn.GetMsg(ctx, bus.StreamEvents, need)
	if err == nil {
		return nil
	}
	if !errors.Is(err, bus.ErrNotFound) {
		return fmt.Errorf("check replay from %d: %w", need, err)
	}
	first := r.firstSeq(ctx, need)
	r.ins.replayGaps.Add(ctx, 1, metric.WithAttributes(attribute.Int("partition", r.p)))
	r.log.ErrorContext(ctx, "refusing partition: committed source messages aged out of the event stream and no snapshot covers them",
		"snapshot_seq", r.restoredAt, "base", r.replayEnd(), "first_seq", first)
	return fmt.Errorf("partition %d: snapshot at %d, committed to %d, stream now starts at %d: %w",
		r.p, r.restoredAt, r.replayEnd(), first, ErrReplayGap)
}

// finishReplay re-checks the replay once it is done: before the first commit or snapshot that follows it.
func (r *runner) finishReplay(ctx context.Context) error {
	if !r.replaying {
		return nil
	}
	if err := r.checkReplay(ctx); err != nil {
		return err
	}
	r.replaying = false
	return nil
}

// errFirstFound stops the read of firstSeq.
var errFirstFound = errors.New("first message found")

// firstSeq returns the sequence of the first message of USAGE_EVENTS at or after from (0 if none, or unknown).
func (r *runner) firstSeq(ctx context.Context, from uint64) uint64 {
	var first uint64
	err := r.conn.Read(ctx, bus.StreamEvents, bus.ReadOptions{StartSeq: from}, func(m bus.Msg) error {
		first = m.Seq
		return errFirstFound
	})
	if err != nil && !errors.Is(err, errFirstFound) {
		r.log.WarnContext(ctx, "reading the event stream's first sequence failed", "err", err)
	}
	return first
}
