package submitter

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// holdSubmits makes Connect refuse every submit (503) until releaseSubmits: files stop at ready, as if
// Connect were slow to take them.
func (env *testEnv) holdSubmits() {
	env.t.Helper()
	if err := env.emu.SetFaults("files.submit", connectemu.Fault{Kind: connectemu.FaultStatus, Status: 503, Times: -1}); err != nil {
		env.t.Fatal(err)
	}
}

func (env *testEnv) releaseSubmits() {
	env.t.Helper()
	if err := env.emu.SetFaults("files.submit"); err != nil {
		env.t.Fatal(err)
	}
}

// lateBatches commits n adjustment messages of pd, one per commit (n late batches), each adjusting one
// subscription of subs in turn by its next revision, and returns their adjustments.
func (env *testEnv) lateBatches(pd events.Period, subs []string, n int) []events.PeriodRecord {
	var all []events.PeriodRecord
	for range n {
		i := env.batches
		env.batches++
		recs := adjustmentsOf(pd, subs[i%len(subs)], 1+i/len(subs))
		env.agg.adjust(env.t, recs)
		all = append(all, recs...)
	}
	return all
}

// TestHeldSupplementIsPlannedWhenItsBaseIsHandedOver: adjustments that arrive while the period's file is not
// yet submitted are held: every message but the newest is acked (the newest stands for them), the newest
// is asked back later, and nothing is planned. Once the file is handed over, one look (what a driver's nudge
// does) plans one supplement of all of them, and the held message is then acked.
func TestHeldSupplementIsPlannedWhenItsBaseIsHandedOver(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	ctx := context.Background()
	pd := period(1)
	env.closePeriod(pd, subscriptions("HOLD", 3))
	if err := s.plan.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatal(err)
	}
	env.lateBatches(pd, subscriptions("HOLD", 3), 5)
	msgs := env.deliveries(subjects.Adjustments.Period(testProduct, testContract, pd.Start))
	var hold holdError
	for i, d := range msgs {
		err := s.plan.onAdjustment(ctx, d)
		if newest := i == len(msgs)-1; newest && !errors.As(err, &hold) || !newest && err != nil {
			t.Fatalf("message %d of %d: %v; want the older acked and the newest held", i+1, len(msgs), err)
		}
	}
	supp := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}
	if env.entry(supp) != nil {
		t.Fatal("a supplement was planned while the base was not handed over")
	}
	env.handOver(pd)
	if err := s.plan.planWaiting(ctx, supplementPeriod{product: testProduct, contract: testContract, start: pd.Start, end: pd.End}); err != nil {
		t.Fatal(err)
	}
	if err := s.plan.onAdjustment(ctx, msgs[len(msgs)-1]); err != nil {
		t.Fatalf("the held message, redelivered: %v, want it acked", err)
	}
	if revs := env.revisions(pd); len(revs) != 2 {
		t.Fatalf("revisions %v, want the base and one supplement", revs)
	}
	checkSupplements(t, env, s, pd, msgs, adjustmentIDs(t, msgs))
}

// TestLateBatchesMakeFewSupplements: twelve late batches arrive while the period's file waits to be
// submitted, then twelve more while its first supplement waits: the period gets one supplement for the
// first twelve and at most two for the next twelve, not one per batch, and Connect bills exactly the
// closed records plus every adjustment.
func TestLateBatchesMakeFewSupplements(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("LATE", 3)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	env.holdSubmits()
	p := periodTruth{closed: env.closePeriod(pd, subs)}
	base := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	env.waitState(base, 30*time.Second, ledger.StateReady)
	p.adjusted = env.lateBatches(pd, subs, 12)
	env.releaseSubmits()
	if n := len(env.waitSupplements(pd, 30*time.Second)); n != 1 {
		t.Fatalf("%d supplements for 12 batches that came while the base was not submitted, want 1", n)
	}

	env.holdSubmits()
	p.adjusted = append(p.adjusted, env.lateBatches(pd, subs, 12)...)
	second := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 2, Part: 1}
	env.waitState(second, 30*time.Second, ledger.StateReady)
	env.releaseSubmits()
	supps := env.waitSupplements(pd, 30*time.Second)
	if len(supps) > 3 {
		t.Errorf("%d supplements for 24 batches in two waits, want at most 3", len(supps))
	}
	checkEveryPeriodAcceptedOnce(t, env, map[int]periodTruth{1: p}, 30*time.Second)
	t.Logf("24 late batches: %d supplements", len(supps))
}

// TestSIGKILLedSubmitterLateBatchesMakeOneSupplement: the same under SIGKILLs of the submitter process and
// Connect faults, over three periods: each period's late batches, committed while its file cannot be
// submitted, make one supplement, and Connect bills exactly what was sent.
func TestSIGKILLedSubmitterLateBatchesMakeOneSupplement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0016", 4)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("*", chaosFaults...); err != nil {
		t.Fatal(err)
	}
	env.holdSubmits()
	logPath := filepath.Join(t.TempDir(), "submitter.log")
	dumpLogOnFailure(t, logPath)
	k := env.startKiller(logPath, 16)

	periods := map[int]periodTruth{}
	for n := range 3 {
		periods[n] = periodTruth{closed: env.closePeriod(period(n), subs)}
	}
	for n := range 3 {
		env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1},
			60*time.Second, ledger.StateReady)
	}
	for range 4 { // 12 batches per period, spread over the kills
		for n := range 3 {
			p := periods[n]
			p.adjusted = append(p.adjusted, env.lateBatches(period(n), subs, 3)...)
			periods[n] = p
		}
		time.Sleep(200 * time.Millisecond) // chaos timing, not an assertion
	}
	env.releaseSubmits()
	time.Sleep(time.Second) // kills go on while the bases are submitted and the supplements planned
	t.Logf("submitter SIGKILLed %d times", k.stop())
	checkEveryPeriodAcceptedOnce(t, env, periods, 90*time.Second)
	for n := range 3 {
		if supps := env.waitSupplements(period(n), 30*time.Second); len(supps) != 1 {
			t.Errorf("period %d: %d supplements for 12 batches, want 1", n, len(supps))
		}
	}
}

// TestSupplementsOfARejectedBase: the provider rejects a period's file after supplements were made on it.
// One was pending at the provider: it stays as it is and is flagged for the operator (base_parked). One
// was ready, not yet submitted (Connect refused its submits meanwhile): it is flagged too, and its next
// step does not submit it but parks it as base_rejected, its file left ready in Connect. A later one is
// parked before Connect has a file for it.
func TestSupplementsOfARejectedBase(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider: files stay pending
	subs := subscriptions("BREJ", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	id := func(rev int) ledger.FileID {
		return ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: rev, Part: 1}
	}
	env.closePeriod(pd, subs)
	base := env.waitState(id(0), 30*time.Second, ledger.StateSubmitted)
	env.adjustOne(pd, subs[0])
	pending := env.waitState(id(1), 30*time.Second, ledger.StateSubmitted)
	env.holdSubmits()
	env.adjustOne(pd, subs[1])
	env.waitState(id(2), 30*time.Second, ledger.StateReady)

	if err := env.emu.Reject(base.FileID, "wrong"); err != nil {
		t.Fatal(err)
	}
	env.waitState(id(0), 30*time.Second, ledger.StateRejected)
	want := id(0).Key() + " rejected"
	waitFor(t, 30*time.Second, "supplements 1 and 2 flagged", func() bool {
		return env.entry(id(1)).BaseParked == want && env.entry(id(2)).BaseParked == want
	})
	ready := env.waitState(id(2), 30*time.Second, ledger.StateFailed) // submits are still refused: no step submits it
	env.releaseSubmits()
	if f, _ := env.emu.File(ready.FileID); ready.Reason == "" || f.Status != "ready" {
		t.Errorf("supplement 2: reason %q, Connect file %s; want parked with its file left ready", ready.Reason, f.Status)
	}
	if f, _ := env.emu.File(pending.FileID); f.Status != "pending" || env.entry(id(1)).State != ledger.StateSubmitted {
		t.Errorf("supplement 1: Connect %s, ledger %s; want it left pending at the provider", f.Status, env.entry(id(1)).State)
	}
	env.adjustOne(pd, subs[0])
	later := env.waitState(id(3), 30*time.Second, ledger.StateFailed)
	if later.FileID != "" || env.filesWithExternalID(id(3).ExternalID()) != 0 || later.BaseParked != "" {
		t.Errorf("supplement 3: file %q, %d in Connect, flag %q; want it parked before Connect had a file",
			later.FileID, env.filesWithExternalID(id(3).ExternalID()), later.BaseParked)
	}
}

// nudgeRecorder is the planner as a driver sees it, noting the periods it is nudged about.
type nudgeRecorder struct{ periods []supplementPeriod }

func (n *nudgeRecorder) nudge(p supplementPeriod) { n.periods = append(n.periods, p) }

// TestHandingOverNudgesAndWakes: a step that hands a file over (into submitted or an end, from before
// them) nudges the planner about its period once, and makes the known jobs of the period's later revisions
// due now with their gate's backoff forgotten; other periods' jobs and earlier revisions are left alone.
func TestHandingOverNudgesAndWakes(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	d, rec := s.drive, &nudgeRecorder{}
	d.nudger = rec
	pd, other := period(1), period(2)
	id := func(p events.Period, rev, part int) ledger.FileID {
		return ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: p.Start, Revision: rev, Part: part}
	}
	later := time.Now().Add(time.Hour)
	for _, x := range []ledger.FileID{id(pd, 0, 2), id(pd, 1, 1), id(pd, 2, 1), id(other, 1, 1)} {
		d.add(x.Key(), later)
		d.jobs[x.Key()].memo = memo{rev: 7, polls: 9, nextAt: later}
	}
	base := &ledger.Entry{Key: id(pd, 0, 1).Key(), Product: testProduct, Contract: testContract, PeriodStart: pd.Start,
		PeriodEnd: pd.End, Part: 1, Parts: 2, State: ledger.StateSubmitted}
	d.stepped(ledger.StateReady, base)
	base.State = ledger.StateAccepted
	d.stepped(ledger.StateSubmitted, base) // handed over already: nothing more
	if len(rec.periods) != 1 || rec.periods[0] != periodOfEntry(base) {
		t.Errorf("nudges %v, want one for %s", rec.periods, pd.Key())
	}
	due := map[string]bool{}
	for range 2 {
		if j, _ := d.take(); j != nil && j.memo == (memo{}) {
			due[j.key] = true
		}
	}
	if !due[id(pd, 1, 1).Key()] || !due[id(pd, 2, 1).Key()] {
		t.Errorf("due with their schedule forgotten: %v, want supplements 1 and 2 of %s", due, pd.Key())
	}
	if j, wait := d.take(); j != nil || wait <= 0 {
		t.Errorf("job %+v due too, want only the later revisions of %s", j, pd.Key())
	}
}

// TestSupplementsAreSpacedOut: from supplement 2 on, a period's supplement is planned only once twice, four
// times … (at most 16 times) the supplement delay has passed since the one before it was planned, its file
// handed over: late usage that trickles in makes a few files, not one per batch. (The planner's clock is
// set by the test.)
func TestSupplementsAreSpacedOut(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	clock := time.Now().Add(time.Hour) // every adjustment is older than the delay
	s.plan.now = func() time.Time { return clock }
	s.plan.supplementDelay = time.Minute
	ctx := context.Background()
	pd := period(1)
	env.agg.close(t, pd, nil) // no closed records: supplement 1 need not wait for a base
	subs := subscriptions("SPACE", 2)
	deliverNewest := func() error {
		t.Helper()
		msgs := env.deliveries(subjects.Adjustments.Period(testProduct, testContract, pd.Start))
		return s.plan.onAdjustment(ctx, msgs[len(msgs)-1])
	}
	planned := func(rev int) bool {
		return env.entry(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: rev, Part: 1}) != nil
	}
	env.lateBatches(pd, subs, 1)
	if err := deliverNewest(); err != nil || !planned(1) {
		t.Fatalf("supplement 1: %v, planned %t", err, planned(1))
	}
	for _, step := range []struct {
		rev        int
		wait, more time.Duration // held after wait, planned after wait+more
	}{{2, time.Minute, time.Minute}, {3, 3 * time.Minute, time.Minute}} {
		env.handOver(pd)
		env.lateBatches(pd, subs, 1)
		clock = clock.Add(step.wait)
		var hold holdError
		if err := deliverNewest(); !errors.As(err, &hold) || planned(step.rev) || hold.delay != min(step.more, maxHoldDelay) {
			t.Fatalf("supplement %d after %v: %v, planned %t; want it held %v more", step.rev, step.wait, err, planned(step.rev), step.more)
		}
		clock = clock.Add(step.more)
		if err := deliverNewest(); err != nil || !planned(step.rev) {
			t.Fatalf("supplement %d after %v: %v, planned %t", step.rev, step.wait+step.more, err, planned(step.rev))
		}
	}
	for n, want := range map[int]time.Duration{2: 2 * time.Minute, 4: 8 * time.Minute, 5: 16 * time.Minute, 40: 16 * time.Minute} {
		if got := supplementSpacing(time.Minute, n); got != want {
			t.Errorf("spacing before supplement %d: %v, want %v", n, got, want)
		}
	}
}
