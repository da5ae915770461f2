package submitter

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// chaosFaults fail about a third of all Connect requests: throttled, server errors, connections reset
// before serving, and requests served whose answer is then lost.
var chaosFaults = []connectemu.Fault{
	{Kind: connectemu.FaultThrottle, Delay: time.Second, Probability: 0.06},
	{Kind: connectemu.FaultStatus, Status: 500, Probability: 0.06},
	{Kind: connectemu.FaultStatus, Status: 503, Probability: 0.06},
	{Kind: connectemu.FaultReset, Probability: 0.06},
	{Kind: connectemu.FaultCommitDrop, Probability: 0.12},
}

// periodTruth is what a test wrote for one period: its closed records, its adjustments, and the
// subscription Connect has no asset for ("" if none), whose records are refused and dead-lettered.
type periodTruth struct {
	closed, adjusted []events.PeriodRecord
	unknown          string
}

// billed is what Connect must hold for the period: every record reported, but the unknown subscription's.
func (p periodTruth) billed() map[string]events.Decimal {
	sums := truth(p.closed, p.adjusted)
	for k := range sums {
		if p.unknown != "" && strings.HasPrefix(k, p.unknown+"/") {
			delete(sums, k)
		}
	}
	return sums
}

// checkEveryPeriodAcceptedOnce waits until every period's file and supplements are accepted and checks
// that Connect holds what was billed, that it ever created exactly one file per external id (a duplicate
// created and then deleted counts too: the emulator keeps deleted files), and that every refused record
// was dead-lettered exactly once.
func checkEveryPeriodAcceptedOnce(t *testing.T, env *testEnv, periods map[int]periodTruth, timeout time.Duration) {
	t.Helper()
	files := 0
	for n, p := range periods {
		id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1}
		fileIDs := []string{env.waitState(id, timeout, ledger.StateAccepted).FileID}
		if len(p.adjusted) > 0 {
			for _, e := range env.waitSupplements(period(n), timeout) {
				if e.State == ledger.StateAccepted {
					fileIDs = append(fileIDs, e.FileID)
				}
			}
		}
		files += len(fileIDs)
		sameTotals(t, connectTotals(env, fileIDs...), p.billed())
	}
	ids, twice := createdOnce(env)
	for _, problem := range twice {
		t.Error(problem)
	}
	if ids != files {
		t.Errorf("%d external ids in Connect, want %d", ids, files)
	}
	checkRefusedOnce(t, env, periods)
	t.Logf("%d periods, %d files, each created once", len(periods), files)
}

// createdOnce counts the external ids of every file Connect ever created, deleted ones included (the
// emulator keeps them), and says which ones more than one file had.
func createdOnce(env *testEnv) (ids int, twice []string) {
	created := map[string][]string{}
	for _, f := range env.emu.Files() {
		created[f.ExternalID] = append(created[f.ExternalID], f.ID+" "+string(f.Status))
	}
	for x, fs := range created {
		if len(fs) != 1 {
			twice = append(twice, fmt.Sprintf("external id %s: Connect created %d files, want 1: %v", x, len(fs), fs))
		}
	}
	return len(created), twice
}

// checkRefusedOnce wants exactly one dead letter per record of each period's unknown subscription, and no
// other.
func checkRefusedOnce(t *testing.T, env *testEnv, periods map[int]periodTruth) {
	t.Helper()
	want := map[string]int{}
	for _, p := range periods {
		for i := range p.closed {
			if p.closed[i].Subscription == p.unknown {
				want[p.closed[i].RecordID()] = 1
			}
		}
	}
	got := map[string]int{}
	for _, dl := range env.deadLetters() {
		var r events.PeriodRecord
		if err := json.Unmarshal(dl.OriginalPayload(), &r); err != nil {
			t.Fatal(err)
		}
		got[r.RecordID()]++
	}
	if !maps.Equal(got, want) {
		t.Errorf("dead letters per record %v, want %v", got, want)
	}
}

// closedTruths are the truths of periods with closed records only.
func closedTruths(records map[int][]events.PeriodRecord) map[int]periodTruth {
	out := map[int]periodTruth{}
	for n, r := range records {
		out[n] = periodTruth{closed: r}
	}
	return out
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
	checkEveryPeriodAcceptedOnce(t, env, closedTruths(records), 60*time.Second)
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
	checkEveryPeriodAcceptedOnce(t, env, closedTruths(records), 60*time.Second)
}
