package aggregator

import (
	"bufio"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// killChildEnv makes the killed worker log its runner starts, snapshot often and split its commits into
// batches of two output messages, so that kills land between the parts of a commit and restarts restore
// snapshots.
var killChildEnv = []string{"USAGEPIPE_LOG_LEVEL=INFO", "USAGEPIPE_SNAPSHOT_EVENTS=20", childPartMessagesVar + "=2"}

// TestSIGKILLedWorkerGivesIdenticalOutput runs a worker process that is SIGKILLed at random moments while the
// input is published (and restarted each time), then replays the very same event stream with an in-process
// worker that is never killed: the stored lines of every subject and the order of the marks must be
// identical per partition, every mark must follow exactly the closed records it counts, nothing may be
// emitted twice and every distinct event must be counted once. One variant lets the worker publish ticks.
func TestSIGKILLedWorkerGivesIdenticalOutput(t *testing.T) {
	for _, v := range []struct {
		name  string
		ticks bool
	}{{"no ticks", false}, {"ticks", true}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			childEnv := append([]string{}, killChildEnv...)
			if v.ticks {
				childEnv = append(childEnv, "USAGEPIPE_NO_TICKS=false", "USAGEPIPE_TICK_INTERVAL=200ms")
			}
			killedWorkerRun(t, childEnv, v.ticks)
		})
	}
}

// killedWorkerRun runs the kills and the comparison; ticks says whether the worker publishes ticks.
func killedWorkerRun(t *testing.T, childEnv []string, ticks bool) {
	env := newTestEnv(t, 4)
	logPath := filepath.Join(t.TempDir(), "worker.log")
	dumpLogOnFailure(t, logPath)
	in := newInput(env, 42, 40)
	kills := killRepeatedly(env, logPath, childEnv, func() {
		for i := range 50 {
			in.round(i)
			time.Sleep(100 * time.Millisecond)
		}
		in.finish()
	})
	waitCaughtUp(t, env.conn, env.partitions, 90*time.Second)
	kills.last.kill()
	st := progressStats(t, env)
	restored := restoredStarts(t, logPath)
	t.Logf("worker SIGKILLed %d times during the input, once more at the end; %d runs committed, %d of %d commits "+
		"in several parts (%d finished by a later run), %d runner starts from a snapshot",
		kills.n, st.runs, st.multiPart, st.commits, st.resumed, restored)
	if st.runs < 4 || st.multiPart == 0 || restored == 0 {
		t.Fatalf("the kills did not exercise the restarts: %d committing runs (want 4), %d split commits, %d restores",
			st.runs, st.multiPart, restored)
	}
	if n := workerTicks(t, env); ticks && n == 0 || !ticks && n > 0 {
		t.Errorf("the killed worker published %d ticks (ticks on: %v)", n, ticks)
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

// workerTicks counts the ticks workers published (message id tick-<p>-<second>) in USAGE_EVENTS.
func workerTicks(t *testing.T, env *testEnv) int {
	t.Helper()
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := env.conn.Read(ctx, bus.StreamEvents, bus.ReadOptions{}, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderKind) == events.KindTick && strings.HasPrefix(m.Header.Get(bus.HeaderMsgID), "tick-") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// kills is the outcome of killRepeatedly: how many kills, and the worker running at the end.
type kills struct {
	n    int
	last *child
}

// killRepeatedly runs input while a worker process (always the same member id, like a restarted pod, so it
// takes its leases back at once) is SIGKILLed every 150 to 650 ms and started again. The worker is only
// touched by the killing goroutine until input has returned.
func killRepeatedly(env *testEnv, logPath string, childEnv []string, input func()) kills {
	k := kills{last: env.startChild("killed", logPath, childEnv...)}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(7, 7))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(150+rng.IntN(500)) * time.Millisecond):
			}
			k.last.kill()
			k.n++
			k.last = env.startChild("killed", logPath, childEnv...)
		}
	}()
	input()
	close(stop)
	<-done
	return k
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

// commitStats describes the progress records of a run.
type commitStats struct {
	runs      int // worker incarnations that committed
	commits   int // commits (complete or not)
	multiPart int // commits written in several parts
	resumed   int // parts stored by another incarnation than the commit's first part
}

// progressStats reads every progress record.
func progressStats(t *testing.T, env *testEnv) commitStats {
	t.Helper()
	var st commitStats
	runs := map[string]bool{}
	firstPart := map[int]string{} // partition: incarnation that stored the current commit's first part
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := env.conn.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{subjects.AllProgress}}, func(m bus.Msg) error {
		prog, err := decodeProgress(m.Data)
		runs[prog.Incarnation] = true
		switch {
		case prog.Part == 1:
			st.commits++
			firstPart[prog.Partition] = prog.Incarnation
			if prog.Parts > 1 {
				st.multiPart++
			}
		case firstPart[prog.Partition] != prog.Incarnation:
			st.resumed++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st.runs = len(runs)
	return st
}

// restoredStarts counts the runner starts a worker log shows from a snapshot.
func restoredStarts(t *testing.T, logPath string) int {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			RestoredAt uint64 `json:"restored_at"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "partition runner started" && line.RestoredAt > 0 {
			n++
		}
	}
	return n
}
