package aggregator

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// start reads the partition's last progress record (the fence), restores the newest usable snapshot, checks
// and plans the replay, and notes how far the partition reaches now (ticks wait until the runner has caught up
// to it).
func (r *runner) start(ctx context.Context) error {
	if err := r.readFence(ctx); err != nil {
		return err
	}
	if err := r.restore(ctx); err != nil {
		return err
	}
	if err := r.checkReplay(ctx); err != nil {
		return err
	}
	r.replaying = r.restoredAt < r.replayEnd()
	if err := r.planFold(ctx); err != nil {
		return err
	}
	end, err := r.conn.LastMsg(ctx, bus.StreamEvents, subjects.Events(r.p))
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		return fmt.Errorf("read partition end: %w", err)
	}
	r.catchUpTo = end.Seq
	now := r.opts.Now()
	r.lastMsgAt, r.lastSnap = now, now
	r.log.InfoContext(ctx, "partition runner started", "fence", r.fence, "committed_to", r.base, "restored_at", r.applied,
		"catch_up_to", r.catchUpTo, "resuming_part", r.resume != nil, "config", r.foldDigest, "switches", len(r.plan))
	return nil
}

// readFence reads the last progress record: the fence, the committed base and an interrupted commit, if any.
func (r *runner) readFence(ctx context.Context) error {
	last, err := r.conn.LastMsg(ctx, bus.StreamAgg, subjects.Progress(r.p))
	switch {
	case errors.Is(err, bus.ErrNotFound):
		r.fence, r.base = 0, 0
		return nil
	case err != nil:
		return fmt.Errorf("read progress: %w", err)
	}
	prog, err := decodeProgress(last.Data)
	if err != nil {
		return fmt.Errorf("progress at seq %d: %w", last.Seq, err)
	}
	r.fence, r.base = last.Seq, prog.base()
	if !prog.complete() {
		r.resume = &prog
	}
	return nil
}
