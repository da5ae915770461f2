package submitter

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

// chaosFaults fail about a third of all Connect requests: throttled, server errors, connections reset
// before serving, and requests served whose answer is then lost.
var chaosFaults = []usageapitest.Fault{
	{Kind: usageapitest.FaultThrottle, Delay: time.Second, Probability: 0.06},
	{Kind: usageapitest.FaultStatus, Status: 500, Probability: 0.06},
	{Kind: usageapitest.FaultStatus, Status: 503, Probability: 0.06},
	{Kind: usageapitest.FaultReset, Probability: 0.06},
	{Kind: usageapitest.FaultCommitDrop, Probability: 0.12},
}

// checkEveryPeriodAcceptedOnce waits until every period's file is accepted and checks that Connect holds
// exactly one live file per external id, with every record of its period.
func checkEveryPeriodAcceptedOnce(t *testing.T, env *testEnv, records map[int][]events.PeriodRecord, timeout time.Duration) {
	t.Helper()
	for n, recs := range records {
		id := FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1}
		e := env.waitState(id, timeout, StateAccepted)
		sameTotals(t, connectTotals(env, e.FileID), truth(recs))
	}
	deleted := 0
	for _, f := range env.emu.Files() {
		if f.Status == usageapi.FileStatusDeleted {
			deleted++
		}
	}
	live := liveFiles(env)
	for x, fs := range live {
		if len(fs) != 1 {
			t.Errorf("external id %s has %d live files", x, len(fs))
		}
	}
	if len(live) != len(records) {
		t.Errorf("%d external ids in Connect, want %d", len(live), len(records))
	}
	t.Logf("%d periods, each one accepted file; %d duplicate files created and deleted by find-or-create", len(records), deleted)
}

func TestFaultsAndRestartsStillGiveOneAcceptedFilePerPeriod(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0006", 6)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("*", chaosFaults...); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	records := map[int][]events.PeriodRecord{}
	const periods, restarts = 6, 8
	for i := range restarts {
		stop := env.start(env.options())
		if i < periods {
			records[i] = env.closePeriod(period(i), subs)
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond) // chaos timing, not an assertion
		stop()
	}
	env.start(env.options())
	checkEveryPeriodAcceptedOnce(t, env, records, 60*time.Second)
	env.emu.ClearFaults()
}

func TestTwoSubmittersShareTheLedger(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0009", 4)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("*", chaosFaults...); err != nil {
		t.Fatal(err)
	}
	env.start(env.options())
	env.start(env.options())
	records := map[int][]events.PeriodRecord{}
	for n := range 6 {
		records[n] = env.closePeriod(period(n), subs)
	}
	checkEveryPeriodAcceptedOnce(t, env, records, 60*time.Second)
}
