package submitter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// closeMiscounted commits pd's closed records of subs and one mark per partition, each counting its
// partition's records plus extra.
func (env *testEnv) closeMiscounted(pd events.Period, subs []string, extra int) {
	env.t.Helper()
	byPart := map[int][]events.PeriodRecord{}
	for i, sub := range subs {
		r := closedRecord(pd, sub, "CPU_HOURS", i)
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	for p := range testPartitions {
		mark := events.PartitionMark{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, PeriodEnd: pd.End,
			Partition: p, Partitions: testPartitions, Records: len(byPart[p]) + extra}
		env.agg.commit(env.t, p, byPart[p], nil, []events.PartitionMark{mark})
	}
}

// lastMark is the newest mark message of pd, as the consumer delivers it.
func (env *testEnv) lastMark(pd events.Period) *bus.Delivery {
	marks := env.deliveries(subjects.Marks.Period(testProduct, testContract, pd.Start))
	return marks[len(marks)-1]
}

// wantParked wants the entry at id failed with reason in its Reason, and no Connect file.
func (env *testEnv) wantParked(id ledger.FileID, reason string) *ledger.Entry {
	env.t.Helper()
	e := env.entry(id)
	switch {
	case e == nil:
		env.t.Fatalf("%s: no ledger entry", id.Key())
	case e.State != ledger.StateFailed || !strings.Contains(e.Reason, reason) || e.FileID != "":
		env.t.Errorf("%s: %s, file %q, reason %q; want failed for %s", id.Key(), e.State, e.FileID, e.Reason, reason)
	}
	return e
}

func TestPeriodWithMissingRecordsIsRetriedThenParked(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	env.closeMiscounted(pd, subscriptions("MISS", 5), 1) // every mark counts one record more than there is
	mark := env.lastMark(pd)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	ctx := context.Background()

	patient, _ := env.planner(DefaultMaxRecordsPerFile)
	patient.plan.grace = time.Hour
	if err := patient.plan.onMark(ctx, mark); !errors.Is(err, errIncomplete) {
		t.Fatalf("within the grace: %v, want errIncomplete (redelivered)", err)
	}
	if e := env.entry(id); e != nil {
		t.Fatalf("within the grace the period was planned: %+v", e)
	}
	impatient, _ := env.planner(DefaultMaxRecordsPerFile)
	impatient.plan.grace = time.Nanosecond
	if err := impatient.plan.onMark(ctx, mark); err != nil {
		t.Fatalf("past the grace: %v, want nil (the mark acked)", err)
	}
	e := env.wantParked(id, reasonRecordsMissing)
	if e.Parts != 1 || !strings.Contains(e.Reason, "5 of 9 records") {
		t.Errorf("parked entry: %d parts, reason %q", e.Parts, e.Reason)
	}
	if err := patient.plan.onMark(ctx, mark); err != nil { // a redelivery finds the revision in the ledger
		t.Errorf("redelivered mark: %v", err)
	}
}

func TestPeriodWithMoreRecordsThanMarksIsParked(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	env.closeMiscounted(pd, subscriptions("MORE", 8), -1) // 8 records, the marks count 4
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	s.plan.grace = time.Hour // no grace: this is never retried
	if err := s.plan.onMark(context.Background(), env.lastMark(pd)); err != nil {
		t.Fatalf("onMark: %v, want nil (the mark acked)", err)
	}
	e := env.wantParked(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}, reasonRecordsExceed)
	if !strings.Contains(e.Reason, "8 records, the marks count 4") {
		t.Errorf("reason %q", e.Reason)
	}
}

func TestProductMissingFromTheCatalogIsRetriedThenParked(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	env.closePeriod(pd, subscriptions("CATL", 3))
	env.adjustOne(pd, "AS-CATL-0001")
	adj := env.deliveries(subjects.Adjustments.Period(testProduct, testContract, pd.Start))[0]
	other, err := events.ParseCatalog([]byte(strings.ReplaceAll(testCatalogYAML, testProduct, "PRD-000-000-002")))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	s.plan.catalog, s.plan.grace = other, time.Hour
	ctx := context.Background()
	if err := s.plan.onMark(ctx, env.lastMark(pd)); !errors.Is(err, errUnknownProduct) {
		t.Fatalf("mark within the grace: %v, want errUnknownProduct", err)
	}
	var hold holdError
	if err := s.plan.onAdjustment(ctx, adj); !errors.As(err, &hold) {
		t.Fatalf("adjustment within the grace: %v, want it held until the base is handed over", err)
	}
	s.plan.grace = time.Nanosecond
	if err := s.plan.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatalf("mark past the grace: %v", err)
	}
	if err := s.plan.onAdjustment(ctx, adj); err != nil {
		t.Fatalf("adjustment past the grace: %v", err)
	}
	env.wantParked(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}, reasonUnknownProduct)
	supp := env.wantParked(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}, reasonUnknownProduct)
	idx, _, err := env.ledger.Index(ctx, ledger.SupplementIndexKey(testProduct, testContract, pd.Start))
	if err != nil || idx.Next != 2 || idx.Covered != adj.Seq || supp.ToSeq != adj.Seq {
		t.Errorf("index %+v (%v), supplement covers to %d; want the adjustment at %d covered", idx, err, supp.ToSeq, adj.Seq)
	}
}

func TestPlanThatNoLongerMatchesTheStreamIsParked(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	env.closePeriod(pd, subscriptions("CHNG", 3)) // 9 records: one part of 10
	s, _ := env.planner(10)
	ctx := context.Background()
	if err := s.plan.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatal(err)
	}
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	first, rev, err := env.ledger.Get(ctx, id.Key())
	if err != nil {
		t.Fatal(err)
	}
	first.Parts = 2 // as if part 1 had been planned from records the stream no longer yields
	if _, err := env.ledger.Update(ctx, first, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.plan.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatalf("onMark: %v, want nil (the mark acked)", err)
	}
	id.Part = 2
	env.wantParked(id, "source_changed")
}
