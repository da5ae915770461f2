package aggregator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
)

// snapshotPrefix is the object name prefix of partition p's snapshots: p<p>-<seq>.
func snapshotPrefix(p int) string { return "p" + strconv.Itoa(p) + "-" }

func snapshotName(p int, seq uint64) string { return snapshotPrefix(p) + strconv.FormatUint(seq, 10) }

// snapshotSeqs returns the sequences of partition p's snapshots, newest first.
func (r *runner) snapshotSeqs(ctx context.Context) ([]uint64, error) {
	names, err := r.conn.ListObjects(ctx, bus.BucketSnapshots, snapshotPrefix(r.p))
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var seqs []uint64
	for _, n := range names {
		if seq, err := strconv.ParseUint(strings.TrimPrefix(n, snapshotPrefix(r.p)), 10, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	slices.Reverse(seqs)
	return seqs, nil
}

// restore sets r.state to the newest snapshot at or before r.base (every snapshot is the state after a
// committed source sequence, the same whoever took it, because the fold is deterministic), or to a fresh
// state. An unreadable snapshot is skipped for an older one: it only costs a longer replay.
func (r *runner) restore(ctx context.Context) error {
	cfg := r.aggConfig(r.p)
	seqs, err := r.snapshotSeqs(ctx)
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if seq > r.base {
			continue
		}
		data, err := r.conn.GetObject(ctx, bus.BucketSnapshots, snapshotName(r.p, seq))
		if err == nil {
			var st *aggregate.State
			if st, err = aggregate.Restore(cfg, bytes.NewReader(data)); err == nil && st.LastSeq() == seq {
				r.state, r.applied, r.restoredAt, r.snapSeq = st, seq, seq, seq
				return nil
			}
			if err == nil {
				err = fmt.Errorf("state at seq %d in a snapshot named %d", st.LastSeq(), seq)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("snapshot unusable; trying an older one", "seq", seq, "err", err)
	}
	r.state, r.applied, r.restoredAt, r.snapSeq = aggregate.New(cfg), 0, 0, 0
	return nil
}

// snapshotIfDue returns the state's snapshot when one is due (SnapshotInterval or SnapshotEvents since the
// last), to be stored once the commit being cut is complete; nil otherwise. Failures are logged: snapshots only
// shorten replays.
func (r *runner) snapshotIfDue(now time.Time) []byte {
	if now.Sub(r.lastSnap) < r.opts.SnapshotInterval && r.sinceSnap < r.opts.SnapshotEvents {
		return nil
	}
	r.lastSnap, r.sinceSnap = now, 0
	var buf bytes.Buffer
	if err := r.state.Snapshot(&buf); err != nil {
		r.log.Warn("snapshot failed", "err", err)
		return nil
	}
	return buf.Bytes()
}

// storeSnapshot stores the state after source message seq, whose commit is complete, prunes old snapshots and
// reports whether the snapshot was stored. It runs on the committer goroutine, or on the runner's when nothing
// is in flight.
func (r *runner) storeSnapshot(ctx context.Context, seq uint64, data []byte) bool {
	if err := r.conn.PutObject(ctx, bus.BucketSnapshots, snapshotName(r.p, seq), data); err != nil {
		r.log.WarnContext(ctx, "storing snapshot failed", "seq", seq, "err", err)
		return false
	}
	r.ins.snapshots.Add(ctx, 1)
	r.log.DebugContext(ctx, "snapshot stored", "seq", seq, "bytes", len(data))
	r.pruneSnapshots(ctx)
	return true
}

// pruneSnapshots deletes all but the newest SnapshotsKept snapshots of the partition.
func (r *runner) pruneSnapshots(ctx context.Context) {
	seqs, err := r.snapshotSeqs(ctx)
	if err != nil || len(seqs) <= r.opts.SnapshotsKept {
		return
	}
	for _, seq := range seqs[r.opts.SnapshotsKept:] {
		err := r.conn.DeleteObject(ctx, bus.BucketSnapshots, snapshotName(r.p, seq))
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			r.log.Warn("deleting old snapshot failed", "seq", seq, "err", err)
		}
	}
}
