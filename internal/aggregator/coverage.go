package aggregator

import (
	"bytes"
	"context"
	"time"
)

// Snapshots are the only durable copy of a partition's state once its committed source messages age out of
// USAGE_EVENTS (MaxAge). Besides the snapshots taken at the end of commits (snapshotIfDue), a runner therefore
// covers its committed base with a snapshot when the partition goes quiet (idleSnapshotAfter without input,
// SnapshotInterval after the last snapshot) and when it stops gracefully, and it reports how old the oldest
// source message applied after its newest snapshot is (uncovered age), warning past half the MaxAge.

// idleCommitIntervals is how many commit intervals without input make a partition idle for a snapshot.
const idleCommitIntervals = 2

// uncoveredWarnFraction of the events stream's MaxAge is the uncovered age past which a runner warns: a
// restart after MaxAge would be refused with ErrReplayGap.
const uncoveredWarnFraction = 0.5

// maybeCoverIdle snapshots the committed base of an idle partition that no snapshot covers yet.
func (r *runner) maybeCoverIdle(ctx context.Context, now time.Time) error {
	if now.Sub(r.lastMsgAt) < idleCommitIntervals*r.opts.CommitInterval || now.Sub(r.lastSnap) < r.opts.SnapshotInterval ||
		now.Before(r.coverRetryAt) {
		return nil
	}
	return r.coverBase(ctx, now)
}

// coverBase stores a snapshot of the state at the committed base when the state is exactly there (nothing
// pending or in flight) and no snapshot covers the base yet. A failed store is retried SnapshotInterval later.
func (r *runner) coverBase(ctx context.Context, now time.Time) error {
	if r.inflight != nil || r.snapping != nil || r.pend.messages > 0 || r.applied != r.base || r.base <= r.snapSeq {
		return nil
	}
	if err := r.finishReplay(ctx); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.state.Snapshot(&buf); err != nil {
		r.log.WarnContext(ctx, "snapshot failed", "err", err)
		r.coverRetryAt = now.Add(r.opts.SnapshotInterval)
		return nil
	}
	if !r.storeSnapshot(ctx, snapshotRef{seq: r.base, digest: r.foldDigest}, buf.Bytes()) {
		r.coverRetryAt = now.Add(r.opts.SnapshotInterval)
		return nil
	}
	r.lastSnap, r.sinceSnap = now, 0
	r.noteSnapshot(r.base, time.Time{}) // nothing is pending: all is covered
	return nil
}

// noteSnapshot records that a snapshot at seq is stored: what was applied after it, from stream time since
// (zero: nothing yet), is what stays uncovered.
func (r *runner) noteSnapshot(seq uint64, since time.Time) {
	r.snapSeq = max(r.snapSeq, seq)
	r.uncoveredSince = since
}

// noteApplied starts the uncovered age at the first message applied after the newest snapshot.
func (r *runner) noteApplied(seq uint64, at time.Time) {
	r.noteAppliedDuringSnapshot(seq, at)
	if seq > r.snapSeq && r.uncoveredSince.IsZero() {
		r.uncoveredSince = at
	}
}

// sampleCoverage publishes the uncovered age and warns once when it passes uncoveredWarnFraction of MaxAge.
func (r *runner) sampleCoverage(ctx context.Context, now time.Time) {
	age := time.Duration(0)
	if !r.uncoveredSince.IsZero() {
		age = max(now.Sub(r.uncoveredSince), 0)
	}
	r.ins.setUncovered(r.p, age.Seconds())
	limit := time.Duration(float64(r.opts.EventsMaxAge) * uncoveredWarnFraction)
	switch {
	case age > limit && !r.uncoveredWarned:
		r.uncoveredWarned = true
		r.log.WarnContext(ctx, "no snapshot covers source messages older than half the event stream's MaxAge: "+
			"a restart after they age out will be refused (ErrReplayGap)",
			"uncovered_since", r.uncoveredSince, "snapshot_seq", r.snapSeq, "base", r.base, "events_max_age", r.opts.EventsMaxAge)
	case age <= limit:
		r.uncoveredWarned = false
	}
}
