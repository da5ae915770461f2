package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// A runner replays the committed source messages after its snapshot under the fold configurations they were
// committed with, and only then folds new ones under its own: its plan is the list of configuration switches
// that the progress records after the snapshot show (each commit names its configuration; a configuration
// changes only where a runner started, between two commits), followed by the switch to the worker's current
// configuration after the last committed message (the end of an interrupted commit included). A switch
// restores the state's snapshot under the new configuration (aggregate.Restore), exactly as the runner that
// first committed under it did, so that every replay gives the committed output again.

// foldStep: source messages after `after` are folded under configuration digest.
type foldStep struct {
	after  uint64
	digest string
}

// historyMargin is how long before the restored state's clock (the arrival of its last message) the progress
// history is read: it absorbs clock differences between the servers that stamped events and progress.
const historyMargin = time.Minute

// errHistoryIncomplete: the progress records after the snapshot could not all be read.
var errHistoryIncomplete = errors.New("progress history incomplete")

// planFold sets r.plan for the replay after r.restoredAt and, for a fresh state, builds the state under the
// configuration of the partition's first commit.
func (r *runner) planFold(ctx context.Context) error {
	end := r.replayEnd()
	var recs []progress
	if end > r.restoredAt {
		var err error
		if recs, err = r.readHistory(ctx); err != nil {
			return err
		}
	}
	if r.state == nil {
		if err := r.freshState(ctx, recs); err != nil {
			return err
		}
	}
	r.plan = append(foldSteps(recs, r.foldDigest), foldStep{after: end, digest: r.configs.current.digest})
	return nil
}

// freshState builds the empty state under the configuration of the first committed record (the current one
// when there is none, or when it names none).
func (r *runner) freshState(ctx context.Context, recs []progress) error {
	digest := ""
	if len(recs) > 0 {
		digest = recs[0].Config
	}
	fc, err := r.configs.get(ctx, digest)
	if err != nil {
		return err
	}
	r.state, r.foldDigest = aggregate.New(fc.forPartition(r.p)), digest
	return nil
}

// foldSteps lists where the configuration named by consecutive records changes, starting from running.
// Records that name none (committed before configurations were recorded) continue the running one.
func foldSteps(recs []progress, running string) []foldStep {
	var steps []foldStep
	for _, rec := range recs {
		if rec.Config == "" || rec.Config == running {
			continue
		}
		steps = append(steps, foldStep{after: rec.From - 1, digest: rec.Config})
		running = rec.Config
	}
	return steps
}

// readHistory returns the partition's progress records after r.restoredAt, in order: read from the restored
// state's clock (less historyMargin), or from the start when that misses the first of them.
func (r *runner) readHistory(ctx context.Context) ([]progress, error) {
	var since time.Time
	if r.state != nil && r.restoredAt > 0 {
		since = r.state.Clock().Add(-historyMargin)
	}
	recs, err := r.progressAfter(ctx, since)
	if err == nil && !historyCovers(recs, r.restoredAt) && !since.IsZero() {
		r.log.WarnContext(ctx, "progress history read from the snapshot's time misses records; reading all of it",
			"snapshot_seq", r.restoredAt, "since", since)
		recs, err = r.progressAfter(ctx, time.Time{})
	}
	if err == nil && !historyCovers(recs, r.restoredAt) {
		err = fmt.Errorf("progress after %d: %w", r.restoredAt, errHistoryIncomplete)
	}
	return recs, err
}

// historyCovers reports whether recs start right after source sequence after: the first one continues from
// it or before (records that predate the After field read as 0).
func historyCovers(recs []progress, after uint64) bool {
	return len(recs) > 0 && recs[0].After <= after
}

// progressAfter reads the partition's progress records stored at or after since whose To is above
// r.restoredAt.
func (r *runner) progressAfter(ctx context.Context, since time.Time) ([]progress, error) {
	var recs []progress
	o := bus.ReadOptions{Filters: []string{subjects.Progress(r.p)}, StartTime: since}
	err := r.conn.Read(ctx, bus.StreamAgg, o, func(m bus.Msg) error {
		prog, err := decodeProgress(m.Data)
		if err != nil {
			return fmt.Errorf("progress at seq %d: %w", m.Seq, err)
		}
		if prog.To > r.restoredAt {
			recs = append(recs, prog)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read progress history: %w", err)
	}
	return recs, nil
}
