package aggregator

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// TestReadBacklog follows one partition through the three cases: input with nothing committed (lag counted
// from the partition's first message), caught up (no lag), and input after the committed base (the stream
// time between the two messages). The partition without input has no backlog throughout.
func TestReadBacklog(t *testing.T) {
	env := newTestEnv(t, 2)
	sub := "AS-0000-0000-0001"
	p := events.Partition(sub, 2)
	at := time.Now().Add(-time.Second)
	env.publishEvents(usageEvent("b-1", sub, "UNITS", "1", at))
	first := env.lastMsg(subjects.Events(p))
	env.publishEvents(usageEvent("b-1b", sub, "UNITS", "1", at))

	b := readBacklog(t, env)
	if b[1-p].End != 0 || b[1-p].Lag != 0 {
		t.Errorf("idle partition: %+v", b[1-p])
	}
	end := env.lastMsg(subjects.Events(p))
	if b[p].End != end.Seq || b[p].Committed != 0 || b[p].Lag != end.Time.Sub(first.Time) {
		t.Errorf("nothing committed: %+v, want end %d and lag %v", b[p], end.Seq, end.Time.Sub(first.Time))
	}

	stop := startWorker(t, env.conn, env.testOptions("backlog-1"))
	waitCaughtUp(t, env.conn, 2, time.Minute)
	stop()
	b = readBacklog(t, env)
	if b[p].Committed < b[p].End || b[p].Lag != 0 {
		t.Errorf("caught up: %+v", b[p])
	}

	env.publishEvents(usageEvent("b-2", sub, "UNITS", "2", at))
	b = readBacklog(t, env)
	end = env.lastMsg(subjects.Events(p))
	base, err := env.conn.GetMsg(context.Background(), bus.StreamEvents, b[p].Committed)
	if err != nil {
		t.Fatal(err)
	}
	if b[p].End != end.Seq || b[p].Committed >= end.Seq || b[p].Lag != end.Time.Sub(base.Time) {
		t.Errorf("behind: %+v, want end %d and lag %v", b[p], end.Seq, end.Time.Sub(base.Time))
	}
}

func readBacklog(t *testing.T, env *testEnv) []Backlog {
	t.Helper()
	b, err := ReadBacklog(context.Background(), env.conn, env.partitions)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != env.partitions {
		t.Fatalf("%d partitions, want %d", len(b), env.partitions)
	}
	return b
}

func (e *testEnv) lastMsg(subject string) bus.Msg {
	e.t.Helper()
	m, err := e.conn.LastMsg(context.Background(), bus.StreamEvents, subject)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}
