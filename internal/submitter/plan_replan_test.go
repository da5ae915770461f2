package submitter

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// deleteEntry deletes the ledger entry at id, as an operator does with `nats kv del usagepipe_ledger <key>`.
func (env *testEnv) deleteEntry(id ledger.FileID) {
	env.t.Helper()
	if err := env.kv.Delete(context.Background(), id.Key(), 0); err != nil {
		env.t.Fatal(err)
	}
}

// waitParkedKeyGone waits until the parked key of id's revision is gone from the ledger.
func (env *testEnv) waitParkedKeyGone(id ledger.FileID) {
	env.t.Helper()
	waitFor(env.t, 30*time.Second, "parked key of "+id.Key()+" removed", func() bool {
		_, err := env.kv.Get(context.Background(), ledger.ParkedKey(id))
		return errors.Is(err, bus.ErrNotFound)
	})
}

// oneRecordPerPartition is one closed CPU_HOURS record of pd in every partition, of subscriptions seeded in
// the emulator.
func (env *testEnv) oneRecordPerPartition(pd events.Period) map[int]events.PeriodRecord {
	out := map[int]events.PeriodRecord{}
	for i, sub := range subscriptions("MISX", 64) {
		if p := events.Partition(sub, testPartitions); out[p].Subscription == "" {
			env.seedAssets(sub)
			out[p] = closedRecord(pd, sub, "CPU_HOURS", i)
		}
	}
	if len(out) != testPartitions {
		env.t.Fatalf("subscriptions cover %d of %d partitions", len(out), testPartitions)
	}
	return out
}

// TestDeletingAParkedPlanReplansIt: a period whose marks count one record more per partition than the
// stream holds is parked as records_missing. The missing records arrive later; an operator deletes the
// failed entry, and the same running submitter plans the period again at its next scan and gets it
// accepted; the parked key goes once it is.
func TestDeletingAParkedPlanReplansIt(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	subs := subscriptions("MISS", 5)
	env.seedAssets(subs...)
	o := env.options()
	o.PlanGrace = time.Nanosecond
	env.start(o)
	env.closeMiscounted(pd, subs, 1)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateFailed)
	env.wantParked(id, reasonRecordsMissing)
	if _, err := env.kv.Get(context.Background(), ledger.ParkedKey(id)); err != nil {
		t.Fatalf("no parked key: %v", err)
	}
	for p, r := range env.oneRecordPerPartition(pd) {
		env.agg.commit(t, p, []events.PeriodRecord{r}, nil, nil)
	}
	env.deleteEntry(id)
	e := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if e.Records != len(subs)+testPartitions {
		t.Errorf("replanned with %d records, want %d", e.Records, len(subs)+testPartitions)
	}
	env.waitParkedKeyGone(id)
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 {
		t.Errorf("%d external ids, created more than once: %v", ids, twice)
	}
}

// TestDeletingParkedRevisionsAfterAFixReplansThem: the submitter's catalog lacks the product, so the closed
// records and a supplement are parked as unknown_product. The submitter is restarted with the right
// catalog (the fix) and the operator deletes the parked entries: both are planned again (the supplement
// over the very adjustment messages it covered) and accepted.
func TestDeletingParkedRevisionsAfterAFixReplansThem(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	subs := subscriptions("CATF", 3)
	env.seedAssets(subs...)
	other, err := events.ParseCatalog([]byte(strings.ReplaceAll(testCatalogYAML, testProduct, "PRD-000-000-002")))
	if err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.Catalog, o.PlanGrace = other, time.Nanosecond
	stop := env.start(o)
	closed := env.closePeriod(pd, subs)
	adjusted := env.adjustOne(pd, subs[0])
	base := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	supp := base
	supp.Revision = 1
	env.waitState(base, 30*time.Second, ledger.StateFailed)
	env.waitState(supp, 30*time.Second, ledger.StateFailed)
	stop()

	env.start(env.options())
	env.deleteEntry(base)
	env.deleteEntry(supp)
	b := env.waitState(base, 30*time.Second, ledger.StateAccepted)
	s := env.waitSupplements(pd, 30*time.Second)
	if len(s) != 1 {
		t.Fatalf("%d supplements, want 1", len(s))
	}
	sameTotals(t, connectTotals(env, b.FileID, s[0].FileID), truth(closed, adjusted))
	env.waitParkedKeyGone(base)
	env.waitParkedKeyGone(supp)
	if ids, twice := createdOnce(env); ids != 2 || len(twice) > 0 {
		t.Errorf("%d external ids, created more than once: %v", ids, twice)
	}
}

// TestDeletingAnEntryParkedByTheDriverReplansIt: Connect ignores the external_id filter, so the driver parks
// the entry as filter_ignored before any file exists, and knows it as ended. Once Connect is fixed and the
// operator deletes the entry, the same submitter plans the period again and drives the new entry, though
// its key is one it had seen end.
func TestDeletingAnEntryParkedByTheDriverReplansIt(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("FILR", 2)
	env.seedAssets(subs...)
	env.createForeignFile(t)
	tr := &ignoreFilterTransport{}
	o := env.options()
	o.HTTPClient = &http.Client{Transport: tr}
	env.start(o)
	env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateFailed)
	waitFor(t, 30*time.Second, "the parked key", func() bool {
		_, err := env.kv.Get(context.Background(), ledger.ParkedKey(id))
		return err == nil
	})
	tr.fixed.Store(true)
	env.deleteEntry(id)
	env.waitState(id, 30*time.Second, ledger.StateAccepted)
	env.waitParkedKeyGone(id)
	if ids, twice := createdOnce(env); ids != 2 || len(twice) > 0 {
		t.Errorf("%d external ids, created more than once: %v", ids, twice)
	}
}
