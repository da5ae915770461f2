package aggregator

import (
	"bytes"
	"cmp"
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

// snapshotPrefix is the object name prefix of partition p's snapshots: p<p>-<seq>-<config digest> (p<p>-<seq>
// for snapshots taken before configurations were recorded).
func snapshotPrefix(p int) string { return "p" + strconv.Itoa(p) + "-" }

// snapshotRef names a snapshot: the state after source message seq, folded under configuration digest.
type snapshotRef struct {
	seq    uint64
	digest string
}

func (s snapshotRef) name(p int) string {
	n := snapshotPrefix(p) + strconv.FormatUint(s.seq, 10)
	if s.digest != "" {
		n += "-" + s.digest
	}
	return n
}

// parseSnapshotName reads a name of partition p's snapshots.
func parseSnapshotName(p int, name string) (snapshotRef, bool) {
	rest, ok := strings.CutPrefix(name, snapshotPrefix(p))
	if !ok {
		return snapshotRef{}, false
	}
	seqText, digest, _ := strings.Cut(rest, "-")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	return snapshotRef{seq: seq, digest: digest}, err == nil
}

// snapshotSeqs returns partition p's snapshots, newest first.
func (r *runner) snapshotSeqs(ctx context.Context) ([]snapshotRef, error) {
	names, err := r.conn.ListObjects(ctx, bus.BucketSnapshots, snapshotPrefix(r.p))
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var refs []snapshotRef
	for _, n := range names {
		if ref, ok := parseSnapshotName(r.p, n); ok {
			refs = append(refs, ref)
		}
	}
	slices.SortFunc(refs, func(a, b snapshotRef) int { return cmp.Compare(b.seq, a.seq) })
	return refs, nil
}

// restore sets r.state to the newest snapshot at or before r.base (every snapshot is the state after a
// committed source sequence, the same whoever took it, because the fold is deterministic), restored under the
// configuration it was folded with; without one the state is left nil for planFold to build fresh. An
// unusable snapshot is skipped for an older one: it only costs a longer replay.
func (r *runner) restore(ctx context.Context) error {
	refs, err := r.snapshotSeqs(ctx)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if ref.seq > r.base {
			continue
		}
		st, err := r.restoreSnapshot(ctx, ref)
		if err == nil {
			r.state, r.foldDigest = st, ref.digest
			r.applied, r.restoredAt, r.snapSeq = ref.seq, ref.seq, ref.seq
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.WarnContext(ctx, "snapshot unusable; trying an older one", "seq", ref.seq, "config", ref.digest, "err", err)
	}
	r.state, r.applied, r.restoredAt, r.snapSeq = nil, 0, 0, 0
	return nil
}

// restoreSnapshot reads one snapshot under its configuration.
func (r *runner) restoreSnapshot(ctx context.Context, ref snapshotRef) (*aggregate.State, error) {
	fc, err := r.configs.get(ctx, ref.digest)
	if err != nil {
		return nil, err
	}
	data, err := r.conn.GetObject(ctx, bus.BucketSnapshots, ref.name(r.p))
	if err != nil {
		return nil, err
	}
	st, err := aggregate.Restore(fc.forPartition(r.p), bytes.NewReader(data))
	if err == nil && st.LastSeq() != ref.seq {
		err = fmt.Errorf("state at seq %d in a snapshot named %d", st.LastSeq(), ref.seq)
	}
	return st, err
}

// snapshotIfDue returns the state's snapshot when one is due (SnapshotInterval or SnapshotEvents since the
// last) and none is still being stored, to be stored once the commit being cut is complete (startSnapshot);
// nil otherwise. Failures are logged: snapshots only shorten replays.
func (r *runner) snapshotIfDue(now time.Time) []byte {
	if r.snapping != nil || now.Sub(r.lastSnap) < r.opts.SnapshotInterval && r.sinceSnap < r.opts.SnapshotEvents {
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
// reports whether the snapshot was stored. It runs on a snapshot's goroutine (startSnapshot), or on the
// runner's when nothing is in flight (coverBase).
func (r *runner) storeSnapshot(ctx context.Context, ref snapshotRef, data []byte) bool {
	if err := r.conn.PutObject(ctx, bus.BucketSnapshots, ref.name(r.p), data); err != nil {
		r.log.WarnContext(ctx, "storing snapshot failed", "seq", ref.seq, "err", err)
		return false
	}
	r.ins.snapshots.Add(ctx, 1)
	r.log.DebugContext(ctx, "snapshot stored", "seq", ref.seq, "config", ref.digest, "bytes", len(data))
	r.pruneSnapshots(ctx)
	return true
}

// pruneSnapshots deletes all but the newest SnapshotsKept snapshots of the partition.
func (r *runner) pruneSnapshots(ctx context.Context) {
	refs, err := r.snapshotSeqs(ctx)
	if err != nil || len(refs) <= r.opts.SnapshotsKept {
		return
	}
	for _, ref := range refs[r.opts.SnapshotsKept:] {
		err := r.conn.DeleteObject(ctx, bus.BucketSnapshots, ref.name(r.p))
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			r.log.WarnContext(ctx, "deleting old snapshot failed", "seq", ref.seq, "err", err)
		}
	}
}
