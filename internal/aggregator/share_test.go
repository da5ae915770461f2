package aggregator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// TestWorkersShareAndSurviveKill runs two and three worker processes over 8 partitions: they must split the
// partitions as the rendezvous hash says, take over the partitions of a SIGKILLed worker, and commit exactly
// what a single worker that is never killed commits for the same stream.
func TestWorkersShareAndSurviveKill(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d workers", n), func(t *testing.T) {
			t.Parallel()
			if n == 3 && testing.Short() {
				t.Skip("long: three worker processes")
			}
			env := newTestEnv(t, 8)
			logPath := filepath.Join(t.TempDir(), "workers.log")
			dumpLogOnFailure(t, logPath)
			members := sharingMembers(n, env.partitions)
			var workers []*child
			for _, m := range members {
				workers = append(workers, env.startChild(m, logPath))
			}
			in := newInput(env, uint64(n), 40)
			var killedAt time.Time
			var moved time.Duration
			for i := range 40 {
				in.round(i)
				switch {
				case i == 10:
					waitLeases(t, env, members, 30*time.Second)
				case i == 15:
					workers[0].kill()
					killedAt = time.Now()
				case i > 15 && moved == 0 && leasesHeld(t, env, members[1:]):
					moved = time.Since(killedAt)
				}
				time.Sleep(100 * time.Millisecond)
			}
			in.finish()
			waitLeases(t, env, members[1:], 30*time.Second)
			if moved == 0 {
				moved = time.Since(killedAt)
			}
			t.Logf("the killed worker's partitions were owned again %v after the kill (lease TTL 1s, heartbeat 200ms)", moved.Round(10*time.Millisecond))
			waitCaughtUp(t, env.conn, env.partitions, 90*time.Second)
			for _, w := range workers[1:] {
				if w.exited() {
					t.Errorf("worker %s exited", w.member)
				}
				w.kill()
			}
			out := readOutputs(t, env.conn)
			checkNoDuplicates(t, out)
			checkTotals(t, in, out)
			compareOutputs(t, referenceOutputs(t, env), out, env.partitions)
		})
	}
}

// sharingMembers returns n member ids among which every member owns a partition, and so does every member
// once the first one is gone.
func sharingMembers(n, partitions int) []string {
	for salt := 0; ; salt++ {
		var members []string
		for i := range n {
			members = append(members, fmt.Sprintf("w%d-%d", i+1, salt))
		}
		if shares(members, partitions) && shares(members[1:], partitions) {
			return members
		}
	}
}

// shares reports whether every member is the desired owner of at least one partition.
func shares(members []string, partitions int) bool {
	owns := map[string]int{}
	for p := range partitions {
		owns[desiredOwner(members, p)]++
	}
	return len(owns) == len(members)
}

// waitLeases waits until every partition's lease is held by its rendezvous owner among members.
func waitLeases(t *testing.T, env *testEnv, members []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !leasesHeld(t, env, members) {
		if time.Now().After(deadline) {
			t.Fatalf("partitions not held by their rendezvous owners among %v after %v", members, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leasesHeld reports whether every partition's lease is held by its rendezvous owner among members.
func leasesHeld(t *testing.T, env *testEnv, members []string) bool {
	t.Helper()
	kv, err := env.conn.KV(context.Background(), bus.BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	for p := range env.partitions {
		e, err := kv.Get(context.Background(), leaseKey(p))
		if errors.Is(err, bus.ErrNotFound) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		if c, err := decodeClaim(e.Value); err != nil || c.Owner != desiredOwner(members, p) {
			return false
		}
	}
	return true
}
