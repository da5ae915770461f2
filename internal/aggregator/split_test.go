package aggregator

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// crashBus stores every batch but, once, fails the call that stored the first part of a split commit, as if
// the worker died between two parts.
type crashBus struct {
	Bus
	crashed atomic.Bool
}

func (b *crashBus) CommitAtomic(ctx context.Context, msgs []bus.Msg, fence uint64) (uint64, error) {
	seq, err := b.Bus.CommitAtomic(ctx, msgs, fence)
	if err != nil {
		return seq, err
	}
	if prog, derr := decodeProgress(msgs[0].Data); derr == nil && prog.Part < prog.Parts && !b.crashed.Swap(true) {
		return 0, errors.New("injected crash between two parts of a commit")
	}
	return seq, nil
}

// TestSplitCommitResumesAfterCrash makes a commit too large for one batch (two output messages per batch
// here), crashes the runner after its first part, and checks that the restarted runner completes it: the
// output equals that of a worker committing everything in one batch, and nothing is stored twice.
func TestSplitCommitResumesAfterCrash(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	cb := &crashBus{Bus: env.conn}
	o := env.testOptions("splitter")
	o.partMessages = 2
	startWorker(t, cb, o)
	now := time.Now()
	second := usageEvent("s2", "AS-2", "UNITS", "4", now)
	second.Data.Contract = "CRD-T2"
	env.publishEvents(usageEvent("s1", "AS-1", "UNITS", "3", now), second, usageEvent("s3", "AS-3", "PEAK", "5", now))
	sleepUntil(now.Truncate(time.Second).Add(1600 * time.Millisecond))
	env.tickAll()
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	if !cb.crashed.Load() {
		t.Fatal("no commit was split into parts")
	}
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	for _, sub := range []string{"AS-1", "AS-2"} {
		if findRecord(out, sub, "UNITS", 0) == nil {
			t.Errorf("no closed record of %s", sub)
		}
	}
	compareOutputs(t, referenceOutputs(t, env), out, env.partitions)
}

// TestTicksClosePeriodsOfIdlePartitions publishes events and nothing else: the worker's ticks must close the
// period (the tick's stream time is the clock).
func TestTicksClosePeriodsOfIdlePartitions(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 2)
	o := env.testOptions("ticker")
	o.NoTicks, o.TickInterval = false, 200*time.Millisecond
	startWorker(t, env.conn, o)
	env.publishEvents(usageEvent("t1", "AS-1", "UNITS", "1.25", time.Now()))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := readOutputs(t, env.conn)
		if r := findRecord(out, "AS-1", "UNITS", 0); r != nil {
			if r.Quantity.String() != "1.25" {
				t.Fatalf("closed record: want 1.25, have %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the period never closed: no tick")
		}
		time.Sleep(100 * time.Millisecond)
	}
	p := events.Partition("AS-1", env.partitions)
	m, err := env.conn.LastMsg(context.Background(), bus.StreamEvents, subjects.Events(p))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(events.HeaderKind) != events.KindTick {
		t.Errorf("last message of partition %d is %q, want a tick", p, m.Header.Get(events.HeaderKind))
	}
}
