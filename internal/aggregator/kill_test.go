package aggregator

import (
	"context"

	"github.com/usagepipe/usagepipe/internal/bus"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSIGKILLedWorkerGivesIdenticalOutput runs a worker process that is SIGKILLed at random moments while the
// input is published (and restarted each time), then replays the very same event stream with an in-process
// worker that is never killed: the closed records, adjustments, marks and dead letters must be identical, line
// for line, per partition and subject, with nothing emitted twice and every distinct event counted once.
func TestSIGKILLedWorkerGivesIdenticalOutput(t *testing.T) {
	env := newTestEnv(t, 4)
	logPath := filepath.Join(t.TempDir(), "worker.log")
	dumpLogOnFailure(t, logPath)
	in := newInput(env, 42, 40)

	var mu sync.Mutex
	// Every incarnation has the same member id (like a restarted pod), so it takes its leases back at once.
	worker := env.startChild("killed", logPath)
	kills := 0
	stopKiller := make(chan struct{})
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		rng := rand.New(rand.NewPCG(7, 7))
		for {
			select {
			case <-stopKiller:
				return
			case <-time.After(time.Duration(150+rng.IntN(500)) * time.Millisecond):
			}
			mu.Lock()
			worker.kill()
			kills++
			worker = env.startChild("killed", logPath)
			mu.Unlock()
		}
	}()
	for i := range 50 {
		in.round(i)
		time.Sleep(100 * time.Millisecond)
	}
	in.finish()
	close(stopKiller)
	<-killerDone
	waitCaughtUp(t, env.conn, env.partitions, 90*time.Second)
	worker.kill()
	runs := committingRuns(t, env)
	t.Logf("worker SIGKILLed %d times during the input, once more at the end; %d runs committed", kills, runs)
	if runs < 4 {
		t.Fatalf("only %d worker runs committed anything: the kills did not interrupt work", runs)
	}

	killed := readOutputs(t, env.conn)
	checkNoDuplicates(t, killed)
	checkTotals(t, in, killed)
	reference := referenceOutputs(t, env)
	compareOutputs(t, reference, killed, env.partitions)
	if len(reference.records) == 0 || len(reference.deadLetters) == 0 || len(reference.marks) == 0 {
		t.Fatalf("reference output is missing kinds: %d records, %d dead letters, %d marks",
			len(reference.records), len(reference.deadLetters), len(reference.marks))
	}
}

// checkTotals compares each subscription's UNITS total (closed values plus delta adjustments) with the sum of
// its distinct input events.
func checkTotals(t *testing.T, in *input, out outputs) {
	t.Helper()
	got := sumsBySubscription(out.records, "UNITS")
	for sub, want := range in.want {
		if g := got[sub]; g.Cmp(want) != 0 {
			t.Errorf("%s UNITS total: want %s, have %s", sub, want, g)
		}
	}
	adjustments := 0
	for _, r := range out.records {
		if r.Revision > 0 {
			adjustments++
		}
	}
	if adjustments == 0 {
		t.Error("no adjustment: the late events were not reported as such")
	}
}

// committingRuns counts the worker incarnations that committed progress.
func committingRuns(t *testing.T, env *testEnv) int {
	t.Helper()
	runs := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := env.conn.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{subjectProgressPrefix + ">"}}, func(m bus.Msg) error {
		prog, err := decodeProgress(m.Data)
		runs[prog.Incarnation] = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}
