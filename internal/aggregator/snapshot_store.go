package aggregator

import (
	"context"
	"time"
)

// snapshotStoreTimeout bounds the storing of one snapshot taken at the end of a commit.
const snapshotStoreTimeout = 2 * time.Minute

// snapshotJob is a snapshot taken at the end of a commit, stored by its own goroutine once that commit is
// complete, so that the partition's next commits never wait for a snapshot put (megabytes, seconds when the
// server is busy: a close held back behind one holds back its whole period). A runner has at most one in
// flight; snapshotIfDue takes no other meanwhile.
type snapshotJob struct {
	ref  snapshotRef
	data []byte
	// since is the stream time of the first message applied after ref.seq (zero: none yet); only the runner's
	// goroutine touches it. Once stored, what was applied from then on is what stays uncovered.
	since  time.Time
	stored bool // out: the snapshot was stored
	done   chan struct{}
	stop   context.CancelFunc
}

// startSnapshot stores data, the state after the complete commit ending at ref.seq, in the background.
func (r *runner) startSnapshot(ref snapshotRef, data []byte) {
	s := &snapshotJob{ref: ref, data: data, done: make(chan struct{})}
	if r.pend.messages > 0 {
		s.since = r.pend.firstAt
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotStoreTimeout)
	s.stop = cancel
	r.snapping = s
	go func() {
		defer close(s.done)
		s.stored = r.storeSnapshot(ctx, ref, data)
	}()
}

// snapshotDone is closed when the snapshot in flight is stored or given up (nil when none is).
func (r *runner) snapshotDone() <-chan struct{} {
	if r.snapping == nil {
		return nil
	}
	return r.snapping.done
}

// awaitSnapshot waits for the snapshot in flight, if any, and records its coverage.
func (r *runner) awaitSnapshot() {
	s := r.snapping
	if s == nil {
		return
	}
	<-s.done
	s.stop()
	r.snapping = nil
	if s.stored {
		r.noteSnapshot(s.ref.seq, s.since)
	}
}

// awaitSnapshotUntil is awaitSnapshot, giving the store up when ctx ends.
func (r *runner) awaitSnapshotUntil(ctx context.Context) {
	if s := r.snapping; s != nil {
		defer context.AfterFunc(ctx, s.stop)()
	}
	r.awaitSnapshot()
}

// abandonSnapshot stops the snapshot in flight, if any, and waits for its goroutine (the runner is stopping).
func (r *runner) abandonSnapshot() {
	if r.snapping != nil {
		r.snapping.stop()
		r.awaitSnapshot()
	}
}

// noteAppliedDuringSnapshot records the first message applied after the snapshot in flight.
func (r *runner) noteAppliedDuringSnapshot(seq uint64, at time.Time) {
	if s := r.snapping; s != nil && s.since.IsZero() && seq > s.ref.seq {
		s.since = at
	}
}
