package aggregator

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// heldSnapshots is the real bus on which storing a partition snapshot waits until release is closed: a
// snapshot put as slow as the test wants. Every other call goes straight to the bus.
type heldSnapshots struct {
	*bus.Conn
	held    chan string // names of the snapshot puts that started waiting
	release chan struct{}
}

func (h *heldSnapshots) PutObject(ctx context.Context, bucket, name string, data []byte) error {
	if strings.HasPrefix(name, snapshotPrefix(0)) {
		select {
		case h.held <- name:
		default:
		}
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Conn.PutObject(ctx, bucket, name, data)
}

// TestCommitsGoOnWhileASnapshotIsStored: a snapshot is stored after its commit by its own goroutine, so the
// partition keeps committing while the put hangs (before, the put held the next commit back: a close behind it
// held back its whole period); once the put completes the snapshot is there, and a graceful stop waits for the
// snapshot in flight and covers the final base.
func TestCommitsGoOnWhileASnapshotIsStored(t *testing.T) {
	env := newTestEnv(t, 1)
	held := &heldSnapshots{Conn: env.conn, held: make(chan string, 8), release: make(chan struct{})}
	o := env.testOptions("w")
	o.SnapshotEvents, o.SnapshotInterval = 1, time.Hour // the first commit takes one (none before it)
	stop := startWorker(t, held, o)
	var released sync.Once
	release := func() { released.Do(func() { close(held.release) }) }
	t.Cleanup(release) // before the worker's stop when the test fails early
	at := time.Now().Add(time.Hour)
	env.publishEvents(usageEvent("e1", "AS-1", "UNITS", "1", at))
	var first string
	select {
	case first = <-held.held:
	case <-time.After(30 * time.Second):
		t.Fatal("no snapshot put started after the first commit")
	}
	for i, id := range []string{"e2", "e3", "e4"} {
		env.publishEvents(usageEvent(id, "AS-1", "UNITS", "1", at.Add(time.Duration(i+1)*time.Second)))
		waitCaughtUp(t, env.conn, 1, 30*time.Second) // committed while the put hangs
	}
	if names := snapshotNames(t, env); len(names) != 0 {
		t.Fatalf("snapshots stored while the put hangs: %v", names)
	}
	release()
	waitFor(t, "snapshot "+first+" stored", func() bool { return slices.Contains(snapshotNames(t, env), first) })
	stop()
	prog, _ := lastProgress(t, env.conn, 0)
	names := snapshotNames(t, env)
	var newest uint64
	for _, n := range names {
		if ref, ok := parseSnapshotName(0, n); ok {
			newest = max(newest, ref.seq)
		}
	}
	if newest != prog.To {
		t.Fatalf("after a graceful stop the newest snapshot is at %d (%v), the committed base at %d", newest, names, prog.To)
	}
}

func snapshotNames(t *testing.T, env *testEnv) []string {
	t.Helper()
	names, err := env.conn.ListObjects(context.Background(), bus.BucketSnapshots, snapshotPrefix(0))
	if err != nil {
		t.Fatal(err)
	}
	return names
}
