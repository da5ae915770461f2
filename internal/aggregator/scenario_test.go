package aggregator

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestDuplicatesLateEventsAndDeadLetters runs a worker, restarts it, and checks that events resent after the
// restart are counted once, that an event arriving after its period closed yields an adjustment, and that
// unusable messages become dead letters with their reasons.
func TestDuplicatesLateEventsAndDeadLetters(t *testing.T) {
	env := newTestEnv(t, 2)
	// Events in a period that starts 3 s from now, so it is still open after the restart.
	at := time.Now().Truncate(time.Second).Add(3 * time.Second)
	e1 := usageEvent("e1", "AS-1", "UNITS", "1.50", at)
	e2 := usageEvent("e2", "AS-1", "UNITS", "2.25", at.Add(100*time.Millisecond))
	p1 := usageEvent("p1", "AS-2", "PEAK", "7", at)

	stop := startWorker(t, env.conn, env.testOptions("w1"))
	env.publishEvents(e1, e2, p1)
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	stop()

	startWorker(t, env.conn, env.testOptions("w2"))
	env.publishEvents(e1, e2) // resent within the horizon, after the restart: ignored
	sleepUntil(at.Add(1500 * time.Millisecond))
	env.tickAll() // closes the period
	late := usageEvent("late-1", "AS-1", "UNITS", "0.25", at.Add(200*time.Millisecond))
	env.publishEvents(late, e1)                                                                        // a late event (and the duplicate again)
	env.publishEvents(usageEvent("x1", "AS-1", "NO-SUCH-ITEM", "1", at))                               // unknown item
	env.publishRaw(events.Partition("AS-1", env.partitions), events.KindEvents, []byte("{not json\n")) // bad packet
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)

	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	closed, adj := findRecord(out, "AS-1", "UNITS", 0), findRecord(out, "AS-1", "UNITS", 1)
	if closed == nil || closed.Quantity.String() != "3.75" || closed.Events != 2 || closed.Mode != events.ModeTotal {
		t.Errorf("closed AS-1 UNITS: want 3.75 from 2 events, have %+v", closed)
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
