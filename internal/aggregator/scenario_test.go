package aggregator

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// scenarioChildEnv snapshots after every commit that applied two events since the last snapshot, and never by
// age: the first packet's commit stores a snapshot, the second's does not.
var scenarioChildEnv = []string{"USAGEPIPE_SNAPSHOT_EVENTS=2", "USAGEPIPE_SNAPSHOT_INTERVAL=1h", "USAGEPIPE_LOG_LEVEL=INFO"}

// TestDuplicatesLateEventsAndDeadLetters runs a worker process, SIGKILLs it once its partition's committed
// state is a snapshot plus one more packet, and starts another: events resent after the restart are counted
// once (their ids come back from the snapshot and from the replay of the packet after it), an event arriving
// after its period closed yields an adjustment, and unusable messages become dead letters with their reasons.
func TestDuplicatesLateEventsAndDeadLetters(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 2)
	logPath := filepath.Join(t.TempDir(), "worker.log")
	dumpLogOnFailure(t, logPath)
	// Events in a period that starts 5 s from now, so it is still open after the restart.
	at := time.Now().Truncate(time.Second).Add(5 * time.Second)
	e1 := usageEvent("e1", "AS-1", "UNITS", "1.50", at)
	e2 := usageEvent("e2", "AS-1", "UNITS", "2.25", at.Add(100*time.Millisecond))
	e3 := usageEvent("e3", "AS-1", "UNITS", "0.50", at.Add(150*time.Millisecond))
	p1 := usageEvent("p1", "AS-2", "PEAK", "7", at)

	w := env.startChild("w", logPath, scenarioChildEnv...)
	env.publishEvents(e1, e2, p1)
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	env.publishEvents(e3)
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	checkSnapshotBelowBase(t, env, events.Partition("AS-1", env.partitions))
	w.kill()

	env.startChild("w", logPath, scenarioChildEnv...)
	env.publishEvents(e1, e3) // resent after the restart, within the horizon: ignored
	sleepUntil(at.Add(1500 * time.Millisecond))
	env.tickAll() // closes the period
	late := usageEvent("late-1", "AS-1", "UNITS", "0.25", at.Add(200*time.Millisecond))
	env.publishEvents(late, e1)                                                                        // a late event (and the duplicate again)
	env.publishEvents(usageEvent("x1", "AS-1", "NO-SUCH-ITEM", "1", at))                               // unknown item
	env.publishRaw(events.Partition("AS-1", env.partitions), events.KindEvents, []byte("{not json\n")) // bad packet
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	if restoredStarts(t, logPath) == 0 {
		t.Error("the restarted worker did not restore a snapshot")
	}

	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	checkScenario(t, out)
}

// checkSnapshotBelowBase fails unless partition p has exactly one snapshot and it is older than the
// committed base: a restart rebuilds the state from it plus a replay.
func checkSnapshotBelowBase(t *testing.T, env *testEnv, p int) {
	t.Helper()
	names, err := env.conn.ListObjects(context.Background(), bus.BucketSnapshots, snapshotPrefix(p))
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := lastProgress(t, env.conn, p)
	if len(names) != 1 {
		t.Fatalf("partition %d: want one snapshot, have %v", p, names)
	}
	if ref, ok := parseSnapshotName(p, names[0]); !ok || ref.seq == 0 || ref.seq >= prog.To {
		t.Fatalf("partition %d: snapshot %s, committed to %d: want a snapshot below the base", p, names[0], prog.To)
	}
}

func checkScenario(t *testing.T, out outputs) {
	t.Helper()
	closed, adj := findRecord(out, "AS-1", "UNITS", 0), findRecord(out, "AS-1", "UNITS", 1)
	if closed == nil || closed.Quantity.String() != "4.25" || closed.Events != 3 || closed.Mode != events.ModeTotal {
		t.Errorf("closed AS-1 UNITS: want 4.25 from 3 events, have %+v", closed)
	}
	if adj == nil || adj.Kind != events.RecordAdjustment || adj.Quantity.String() != "0.25" || adj.Mode != events.ModeDelta || adj.Events != 1 {
		t.Errorf("adjustment AS-1 UNITS: want revision 1 delta 0.25 from 1 event, have %+v", adj)
	}
	if peak := findRecord(out, "AS-2", "PEAK", 0); peak == nil || peak.Quantity.String() != "7" {
		t.Errorf("closed AS-2 PEAK: want 7, have %+v", peak)
	}
	reasons := map[events.Reason]int{}
	for _, d := range out.deadLetters {
		reasons[d.Reason]++
		if d.Stage != deadLetterStage || d.Seq == 0 || len(d.OriginalPayload()) == 0 {
			t.Errorf("dead letter without stage, source or payload: %+v", d)
		}
	}
	if reasons[events.ReasonUnknownItem] != 1 || reasons[events.ReasonBadJSON] != 1 {
		t.Errorf("dead letters by reason: want one unknown_item and one bad_json, have %v", reasons)
	}
	if len(out.marks) == 0 {
		t.Error("no partition marks committed")
	}
}

func findRecord(out outputs, sub, item string, revision int) *events.PeriodRecord {
	for i, r := range out.records {
		if r.Subscription == sub && r.Item == item && r.Revision == revision {
			return &out.records[i]
		}
	}
	return nil
}

// sleepUntil waits for a wall-clock instant (to let a period's close time pass; nothing is asserted on it).
func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }
