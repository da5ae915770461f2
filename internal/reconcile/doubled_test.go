package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestReconcileFindsARecordConnectHoldsTwice lets the submitter report a period, then bills one key a second
// time in a usagepipe file the ledger does not know, over part of the period only: reconcile keys it by the
// catalog's period containing its start and reports it doubled. A file of someone else is listed, not
// compared; a --since window after the period leaves everything out.
func TestReconcileFindsARecordConnectHoldsTwice(t *testing.T) {
	w := newWorld(t)
	closed := []events.PeriodRecord{
		record("AS-0000-0000-0001", "CPU_HOURS", 0, events.ModeTotal, "10.5"),
		record("AS-0000-0000-0002", "CPU_HOURS", 0, events.ModeTotal, "7"),
	}
	w.publish(closed...)
	w.mark(closed)
	w.runSubmitter()
	w.waitSettled()

	part := dayRow("asset.id", "AS-0000-0000-0001", "CPU_HOURS", "10.5")
	part.from, part.to = day.Add(6*time.Hour), day.Add(7*time.Hour-time.Second)
	w.handFile("usagepipe:"+product+":"+contract+":20260310T000000Z:r7:p1", part)
	w.handFile("billing-system-b:42", dayRow("asset.id", "AS-0000-0000-0002", "CPU_HOURS", "7"))

	r := w.reconcile()
	var b strings.Builder
	r.Write(&b, 0)
	if len(r.Findings) != 1 {
		t.Fatalf("want one finding:\n%s", b.String())
	}
	f := r.Findings[0]
	want := Key{Product: product, Contract: contract, Asset: "AS-0000-0000-0001", Item: "CPU_HOURS", Period: "20260310T000000Z"}
	if f.Kind() != Doubled || f.Key != want || !f.Have.Quantity.Equal(events.MustDecimal("21")) || f.Have.Records != 2 {
		t.Errorf("finding %s, want %s doubled to 21 over 2 records", f.Difference, want)
	}
	if len(r.NotOurs) != 1 || !strings.Contains(r.NotOurs[0], "billing-system-b:42") {
		t.Errorf("not ours: %q", r.NotOurs)
	}
	if !strings.Contains(strings.Join(r.LedgerIssues, "\n"), "unknown to the ledger") {
		t.Errorf("the hand-made usagepipe file is not reported unknown to the ledger:\n%s", b.String())
	}

	later := func() time.Time { return day.AddDate(0, 0, 3) }
	if r := w.reconcileWith(Options{Since: 24 * time.Hour, Now: later}); len(r.Findings) != 0 || r.Periods != 0 || r.Before != 1 {
		t.Errorf("--since after the period: %d findings, %d periods compared, %d before", len(r.Findings), r.Periods, r.Before)
	}
}
