package submitter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/parked"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

var alice = ledger.Actor{Name: "alice", Via: "test"}

// parkedService is the operators' service over the test's ledger, streams and Connect.
func (env *testEnv) parkedService() *parked.Service {
	env.t.Helper()
	client, err := usageapi.New(env.connectURL(), testAPIKey)
	if err != nil {
		env.t.Fatal(err)
	}
	s, err := parked.New(env.ledger, env.conn, client, env.catalog)
	if err != nil {
		env.t.Fatal(err)
	}
	return s
}

// wantRefused wants err to be a refusal saying why.
func wantRefused(t *testing.T, err error, why string) {
	t.Helper()
	if !errors.Is(err, parked.ErrRefused) || !strings.Contains(err.Error(), why) {
		t.Fatalf("got %v, want a refusal saying %q", err, why)
	}
}

// TestParkedRetryReplansOnceTheRecordsAreThere: a period parked as records_missing is refused a retry
// while USAGE_AGG still lacks records; once they are there the retry deletes its failed entry, a running
// submitter plans it again, and it is accepted in one file; the action is in the period's log.
func TestParkedRetryReplansOnceTheRecordsAreThere(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	subs := subscriptions("ORET", 5)
	env.seedAssets(subs...)
	o := env.options()
	o.PlanGrace = time.Nanosecond
	env.start(o)
	env.closeMiscounted(pd, subs, 1)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateFailed)
	svc, ctx := env.parkedService(), context.Background()
	if views, err := svc.List(ctx, parked.ListFilter{}); err != nil || len(views) != 1 || views[0].Reason != "records_missing" ||
		views[0].Can[0] != parked.ActionRetry {
		t.Fatalf("parked list %+v, %v", views, err)
	}
	_, err := svc.Retry(ctx, id.Key(), alice, "too early")
	wantRefused(t, err, "still holds 5 closed records of the period, its marks count 9")
	for p, r := range env.oneRecordPerPartition(pd) {
		env.agg.commit(t, p, []events.PeriodRecord{r}, nil, nil)
	}
	res, err := svc.Retry(ctx, ledger.ParkedKey(id), alice, "the records are there")
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	e := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if e.Records != len(subs)+testPartitions {
		t.Errorf("replanned with %d records", e.Records)
	}
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 {
		t.Errorf("%d external ids, %v", ids, twice)
	}
	acts, err := env.ledger.Actions(ctx, testProduct, testContract, pd.Start)
	if err != nil || len(acts) != 1 || acts[0].Action != "retry" || acts[0].Actor != alice || acts[0].Note != "the records are there" {
		t.Errorf("action log %+v, %v", acts, err)
	}
	_, err = svc.Retry(ctx, id.Key(), alice, "again")
	wantRefused(t, err, "no part of its revision is parked")
}

// TestARejectedFileIsResubmittedIntoTheSameFile: with two submitters running, a file the provider rejected
// is resubmitted by an operator: the same Connect file is uploaded again, submitted, and accepted once; the
// entry's history names the operator; a second resubmission is refused.
func TestARejectedFileIsResubmittedIntoTheSameFile(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider
	pd := period(2)
	subs := subscriptions("ORSB", 4)
	env.seedAssets(subs...)
	env.start(env.options())
	env.start(env.options())
	env.closePeriod(pd, subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Reject(e.FileID, "asset AS-… unknown to the provider"); err != nil {
		t.Fatal(err)
	}
	env.waitState(id, 30*time.Second, ledger.StateRejected)
	svc, ctx := env.parkedService(), context.Background()
	res, err := svc.Resubmit(ctx, e.FileID, alice, "the provider fixed the asset")
	if err != nil || !strings.Contains(res.Outcome, "uploaded again") {
		t.Fatalf("resubmit: %+v, %v", res, err)
	}
	again := env.waitState(id, 30*time.Second, ledger.StateSubmitted)
	if again.FileID != e.FileID || again.Reupload != nil || again.Uploads < 2 {
		t.Fatalf("resubmitted entry %+v", again)
	}
	if err := env.emu.Accept(e.FileID, "ok now"); err != nil {
		t.Fatal(err)
	}
	done := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 || len(env.emu.Files()) != 1 {
		t.Errorf("%d external ids, %d files, %v", ids, len(env.emu.Files()), twice)
	}
	byOperator := false
	for _, tr := range done.History {
		byOperator = byOperator || tr.By == alice.String() && tr.State == ledger.StateCreated
	}
	if !byOperator {
		t.Errorf("history %+v does not name the operator", done.History)
	}
	_, err = svc.Resubmit(ctx, id.Key(), alice, "twice")
	wantRefused(t, err, "not parked")
}

// TestAGoneFileIsResubmittedInANewFile: a file deleted in Connect parks its entry; a resubmission makes a
// new file under the next attempt's external id, accepted, the dead one kept in the entry.
func TestAGoneFileIsResubmittedInANewFile(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(3)
	subs := subscriptions("OGON", 3)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("files.submit", connectemu.Fault{Kind: connectemu.FaultStatus, Status: 503, Times: -1}); err != nil {
		t.Fatal(err)
	}
	env.start(env.options())
	env.closePeriod(pd, subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateReady)
	client, _ := usageapi.New(env.connectURL(), testAPIKey)
	if _, err := client.DeleteFile(context.Background(), e.FileID); err != nil {
		t.Fatal(err)
	}
	env.waitState(id, 30*time.Second, ledger.StateFailed)
	env.emu.ClearFaults()
	res, err := env.parkedService().Resubmit(context.Background(), id.Key(), alice, "deleted by mistake")
	if err != nil || !strings.Contains(res.Outcome, "a new file") {
		t.Fatalf("resubmit: %+v, %v", res, err)
	}
	done := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if done.ExternalID != id.ExternalIDAttempt(2) || done.FileID == e.FileID || len(done.PreviousFiles) != 1 ||
		done.PreviousFiles[0].FileID != e.FileID {
		t.Fatalf("resubmitted entry %+v", done)
	}
	live := 0
	for _, f := range env.emu.Files() {
		if f.Status != usageapi.FileStatusDeleted {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live files, want the one new file", live)
	}
}

// TestResubmitRefusesAFileThatMayStillBeAccepted: a parked entry whose Connect file is pending is not
// resubmitted (the provider may still accept it).
func TestResubmitRefusesAFileThatMayStillBeAccepted(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{})
	pd := period(4)
	subs := subscriptions("OPEN", 2)
	env.seedAssets(subs...)
	stop := env.start(env.options())
	env.closePeriod(pd, subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateSubmitted)
	stop()
	e, rev, err := env.ledger.Get(context.Background(), id.Key())
	if err != nil {
		t.Fatal(err)
	}
	_ = e.MoveTo(ledger.StateFailed, time.Now(), "a refusal while following")
	if _, err := env.ledger.Update(context.Background(), e, rev); err != nil {
		t.Fatal(err)
	}
	_, err = env.parkedService().Resubmit(context.Background(), id.Key(), alice, "")
	wantRefused(t, err, "pending at the provider")
}

// TestAbandonStopsAlertingAndBlocksSupplements: abandoning needs a note; an abandoned revision loses its
// parked key, is listed only with All, and its supplements are parked as base_abandoned.
func TestAbandonStopsAlertingAndBlocksSupplements(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(5)
	subs := subscriptions("OABN", 3)
	env.seedAssets(subs...)
	o := env.options()
	o.PlanGrace, o.SupplementDelay = time.Nanosecond, 0
	env.start(o)
	env.closeMiscounted(pd, subs, 1)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateFailed)
	svc, ctx := env.parkedService(), context.Background()
	_, err := svc.Abandon(ctx, id.Key(), alice, " ")
	wantRefused(t, err, "a note")
	if _, err := svc.Abandon(ctx, id.Key(), alice, "the records of that day are lost for good"); err != nil {
		t.Fatal(err)
	}
	env.waitParkedKeyGone(id)
	if views, _ := svc.List(ctx, parked.ListFilter{}); len(views) != 0 {
		t.Errorf("abandoned entry still listed as parked: %+v", views)
	}
	if views, _ := svc.List(ctx, parked.ListFilter{All: true}); len(views) != 1 || views[0].State != ledger.StateAbandoned {
		t.Errorf("list --all: %+v", views)
	}
	adj := closedRecord(pd, subs[0], "CPU_HOURS", 7)
	adj.Kind, adj.Mode, adj.Revision = events.RecordAdjustment, events.ModeDelta, 1
	env.agg.adjust(t, []events.PeriodRecord{adj})
	supp := id
	supp.Revision = 1
	e := env.waitState(supp, 30*time.Second, ledger.StateFailed)
	if !strings.Contains(e.Reason, "base_abandoned") {
		t.Errorf("supplement parked as %q", e.Reason)
	}
}

// TestSupplementsFollowTheirResubmittedBase: a supplement parked because its base was rejected is planned
// again by itself once an operator's resubmission of the base is accepted, and is accepted in turn.
func TestSupplementsFollowTheirResubmittedBase(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{})
	pd := period(6)
	subs := subscriptions("OBAS", 3)
	env.seedAssets(subs...)
	o := env.options()
	o.SupplementDelay = 0
	env.start(o)
	env.closePeriod(pd, subs)
	base := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	e := env.waitState(base, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Reject(e.FileID, "not now"); err != nil {
		t.Fatal(err)
	}
	env.waitState(base, 30*time.Second, ledger.StateRejected)
	adj := closedRecord(pd, subs[1], "CPU_HOURS", 9)
	adj.Kind, adj.Mode, adj.Revision = events.RecordAdjustment, events.ModeDelta, 1
	env.agg.adjust(t, []events.PeriodRecord{adj})
	supp := base
	supp.Revision = 1
	if s := env.waitState(supp, 30*time.Second, ledger.StateFailed); !strings.Contains(s.Reason, "base_rejected") {
		t.Fatalf("supplement parked as %q", s.Reason)
	}
	if _, err := env.parkedService().Resubmit(context.Background(), base.Key(), alice, "accepted this time"); err != nil {
		t.Fatal(err)
	}
	env.waitState(base, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Accept(e.FileID, ""); err != nil {
		t.Fatal(err)
	}
	env.waitState(base, 30*time.Second, ledger.StateAccepted)
	var s *ledger.Entry
	waitFor(t, 30*time.Second, "the supplement planned again and submitted", func() bool {
		s = env.entry(supp)
		return s != nil && s.State == ledger.StateSubmitted
	})
	if err := env.emu.Accept(s.FileID, ""); err != nil {
		t.Fatal(err)
	}
	env.waitState(supp, 30*time.Second, ledger.StateAccepted)
	if ids, twice := createdOnce(env); ids != 2 || len(twice) > 0 {
		t.Errorf("%d external ids, %v", ids, twice)
	}
}
