package aggregator

import (
	"context"
	"slices"
	"sync"

	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// A worker's heartbeat (internal/svcstatus) says which partitions it holds and how far each runner is behind.
// Runners sample their partition every lagEvery (sampleLag) into their runnerStats; the heartbeat goroutine
// reads the worker's held partitions through healthView, which the worker's loop republishes at every step.

// runnerStats is the last sample of one runner, shared with the heartbeat goroutine.
type runnerStats struct {
	mu sync.Mutex
	v  svcstatus.PartitionLag
}

func (s *runnerStats) set(v svcstatus.PartitionLag) {
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
}

func (s *runnerStats) get() svcstatus.PartitionLag {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}

// healthView is the worker's held partitions as the heartbeat reads them.
type healthView struct {
	mu   sync.Mutex
	held map[int]*runHandle // nil handle: held, runner stopped
}

// publish copies the worker's held partitions; it runs on the worker's loop.
func (w *Worker) publishHealth() {
	m := make(map[int]*runHandle, len(w.held))
	for p, h := range w.held {
		m[p] = h.run
	}
	w.health.mu.Lock()
	w.health.held = m
	w.health.mu.Unlock()
}

// fillHeartbeat sets the aggregator part of the worker's heartbeat.
func (w *Worker) fillHeartbeat(hb *svcstatus.Heartbeat) {
	w.health.mu.Lock()
	defer w.health.mu.Unlock()
	a := &svcstatus.Aggregator{Partitions: []svcstatus.PartitionLag{}}
	for p, h := range w.health.held {
		v := svcstatus.PartitionLag{Partition: p}
		if h != nil {
			v = h.stats.get()
			v.Partition, v.Running = p, !h.stopped()
			if !v.Running && h.err != nil {
				v.LastError = h.err.Error()
			}
		}
		a.Partitions = append(a.Partitions, v)
	}
	slices.SortFunc(a.Partitions, func(x, y svcstatus.PartitionLag) int { return x.Partition - y.Partition })
	hb.Aggregator = a
}

// runHeartbeat writes the worker's heartbeat until ctx ends.
func (w *Worker) runHeartbeat(ctx context.Context) {
	svcstatus.Run(ctx, w.conn, svcstatus.Heartbeat{Kind: svcstatus.KindAggregator, Member: w.opts.MemberID,
		OpsAddr: w.opts.OpsAddr}, w.fillHeartbeat, w.deps.log)
}
