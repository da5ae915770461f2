package aggregator

import "context"

// DefaultMaxConcurrentCommits bounds the atomic batches one worker has open at once. The server accepts at
// most 50 open batches per stream (and 1000 per server) and refuses more; a worker owning many partitions
// (P goes up to 1024) would otherwise open one per partition at once, and every refused commit restarts its
// runner. Workers sharing USAGE_AGG should keep the sum of their bounds (or P, if lower) at or below 50.
const DefaultMaxConcurrentCommits = 32

// commitSlots is a worker's semaphore of open atomic batches, shared by its runners' committers.
type commitSlots chan struct{}

func newCommitSlots(n int) commitSlots { return make(commitSlots, n) }

// acquire waits for a free slot; false if ctx ended first.
func (s commitSlots) acquire(ctx context.Context) bool {
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s commitSlots) release() { <-s }
