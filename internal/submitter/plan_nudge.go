package submitter

import (
	"context"
	"sync"
	"time"
)

// Nudges: a driver that hands a file over tells the planner (supplementNudger), which looks at once for
// adjustments of the file's period waiting beyond its supplement index (planWaiting), on a goroutine of its
// own so that the driver's worker never waits for planning. Nudges of one period before the planner gets to
// them make one look. A supplement held by the spacing (supplement_order.go) nudges its period when the
// spacing has passed. A nudge lost (the process killed) costs only time: the period's newest adjustment
// message is held unacknowledged, and its redelivery plans the supplement.

// nudges are the periods to look at, by supplement index key, and when those held by the spacing are to
// be looked at (nudgeAt).
type nudges struct {
	mu      sync.Mutex
	periods map[string]supplementPeriod
	timers  map[string]time.Time
	kick    chan struct{}
}

func newNudges() *nudges {
	return &nudges{periods: map[string]supplementPeriod{}, timers: map[string]time.Time{}, kick: make(chan struct{}, 1)}
}

// nudge asks the planner to look at p's waiting adjustments; it never blocks.
func (pl *planner) nudge(p supplementPeriod) {
	n := pl.nudged
	n.mu.Lock()
	n.periods[p.indexKey()] = p
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// take returns the periods nudged since the last take and forgets them.
func (n *nudges) take() []supplementPeriod {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]supplementPeriod, 0, len(n.periods))
	for k, p := range n.periods {
		out = append(out, p)
		delete(n.periods, k)
	}
	return out
}

// planNudged plans the waiting supplements of the nudged periods until ctx ends. A failure is logged: the
// held adjustment message's redelivery plans the supplement instead.
func (pl *planner) planNudged(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-pl.nudged.kick:
		}
		for _, p := range pl.nudged.take() {
			if err := pl.planWaiting(ctx, p); err != nil && ctx.Err() == nil {
				pl.log.WarnContext(ctx, "submitter: planning a waiting supplement failed (its held adjustment comes back)",
					"index", p.indexKey(), "err", err)
			}
		}
	}
}

// nudgeAt nudges the planner about p at t (a supplement held by the spacing until then), once for any number
// of calls before then.
func (pl *planner) nudgeAt(p supplementPeriod, t time.Time) {
	n, key := pl.nudged, p.indexKey()
	n.mu.Lock()
	defer n.mu.Unlock()
	if at, ok := n.timers[key]; ok && !at.After(t) {
		return
	}
	n.timers[key] = t
	time.AfterFunc(max(t.Sub(pl.now()), 0), func() {
		n.mu.Lock()
		if n.timers[key].Equal(t) {
			delete(n.timers, key)
		}
		n.mu.Unlock()
		pl.nudge(p)
	})
}
