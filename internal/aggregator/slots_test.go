package aggregator

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// gateBus holds every commit until more than limit are open at once (a violation, recorded) or holdFor has
// passed, so that commits that can run together do.
type gateBus struct {
	Bus
	limit   int
	holdFor time.Duration

	mu       sync.Mutex
	open     int
	maxOpen  int
	violated chan struct{} // closed once more than limit are open
}

func (b *gateBus) CommitAtomic(ctx context.Context, msgs []bus.Msg, fence uint64) (uint64, error) {
	b.mu.Lock()
	b.open++
	b.maxOpen = max(b.maxOpen, b.open)
	if b.open > b.limit {
		select {
		case <-b.violated:
		default:
			close(b.violated)
		}
	}
	b.mu.Unlock()
	select {
	case <-b.violated:
	case <-time.After(b.holdFor):
	}
	defer func() { b.mu.Lock(); b.open--; b.mu.Unlock() }()
	return b.Bus.CommitAtomic(ctx, msgs, fence)
}

// TestConcurrentCommitsBounded lets four partitions commit at once through a worker allowed two open
// batches: never more than two may be open, and two must have been (the bound, not luck, kept it there).
func TestConcurrentCommitsBounded(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 4)
	gb := &gateBus{Bus: env.conn, limit: 2, holdFor: time.Second, violated: make(chan struct{})}
	for p := range 4 {
		env.publishRaw(p, events.KindTick, nil)
	}
	o := env.testOptions("bounded")
	o.MaxCommits = 2
	stop := startWorker(t, gb, o)
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	stop()
	gb.mu.Lock()
	defer gb.mu.Unlock()
	if gb.maxOpen != 2 {
		t.Errorf("at most %d commits were open at once, want exactly the bound 2", gb.maxOpen)
	}
}
