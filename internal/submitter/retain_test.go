package submitter

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// TestRetentionPurgesBilledPeriodsAndKeepsSupplementsWorking: a running submitter's retention purges the
// records and marks of a billed period, and the marks of an old period without records once its index
// notes it; an adjustment of that period arriving afterwards is still filed (the gate reads the index).
func TestRetentionPurgesBilledPeriodsAndKeepsSupplementsWorking(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("RETN", 3)
	env.seedAssets(subs...)
	o := env.options()
	o.RetentionInterval, o.RetentionMinAge, o.SupplementDelay = 100*time.Millisecond, time.Nanosecond, 0
	env.start(o)
	pd := period(7)
	env.closePeriod(pd, subs)
	env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}, 30*time.Second, ledger.StateAccepted)
	old := events.Period{Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)}
	env.agg.close(t, old, nil) // every partition marks it without records
	left := func(o subjects.Output, p events.Period) uint64 {
		counts, err := env.conn.SubjectCounts(context.Background(), bus.StreamAgg, o.Period(testProduct, testContract, p.Start))
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, c := range counts {
			n += c
		}
		return n
	}
	waitFor(t, 30*time.Second, "the billed period's records and marks, and the old empty period's marks, purged", func() bool {
		return left(subjects.Records, pd) == 0 && left(subjects.Marks, pd) == 0 && left(subjects.Marks, old) == 0
	})
	idx, _, err := env.ledger.Index(context.Background(), ledger.SupplementIndexKey(testProduct, testContract, old.Start))
	if err != nil || !idx.NoClosedRecords {
		t.Fatalf("index %+v, %v", idx, err)
	}
	adj := closedRecord(old, subs[0], "CPU_HOURS", 1)
	adj.Kind, adj.Mode, adj.Revision = events.RecordAdjustment, events.ModeDelta, 1
	env.agg.adjust(t, []events.PeriodRecord{adj})
	env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: old.Start, Revision: 1, Part: 1},
		30*time.Second, ledger.StateAccepted)
}
