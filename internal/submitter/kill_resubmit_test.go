package submitter

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/parked"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// TestResubmissionsSurviveSIGKILLedSubmitters: operators resubmit five files the provider rejected while the
// submitter process driving them is SIGKILLed every 100–700 ms and started again, and Connect answers slowly
// (so the kills fall inside the re-uploads) and with faults (answers lost after the request was served): each
// is uploaded again into its own Connect file, submitted and accepted once, Connect holding exactly its
// records; Connect never created a second file for any of them, and each entry's history names the operator.
func TestResubmissionsSurviveSIGKILLedSubmitters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // the provider decides by hand
	subs := subscriptions("OKIL", 4)
	env.seedAssets(subs...)
	logPath := filepath.Join(t.TempDir(), "submitter.log")
	dumpLogOnFailure(t, logPath)
	k := env.startKiller(logPath, 11)
	periods := map[int]periodTruth{}
	var ids []ledger.FileID
	for n := 20; n < 25; n++ {
		periods[n] = periodTruth{closed: env.closePeriod(period(n), subs)}
		ids = append(ids, ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1})
	}
	fileIDs := map[ledger.FileID]string{}
	for _, id := range ids {
		e := env.waitState(id, 60*time.Second, ledger.StateSubmitted)
		fileIDs[id] = e.FileID
		if err := env.emu.Reject(e.FileID, "asset unknown to the provider"); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		env.waitState(id, 60*time.Second, ledger.StateRejected)
	}
	slow := append([]connectemu.Fault{{Kind: connectemu.FaultLatency, Delay: 300 * time.Millisecond, Probability: 0.5}}, chaosFaults...)
	if err := env.emu.SetFaults("*", slow...); err != nil {
		t.Fatal(err)
	}
	svc := env.parkedService()
	for _, id := range ids {
		resubmit(t, svc, id.Key())
	}
	for _, id := range ids {
		// Rejected before, submitted now: submitted again. (Its Uploads may not say so: a kill after Connect
		// took the upload, before the ledger counted it, is caught up by observing the file.)
		env.waitState(id, 60*time.Second, ledger.StateSubmitted)
		if err := env.emu.Accept(fileIDs[id], "ok now"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("submitter SIGKILLed %d times", k.stop())
	env.emu.ClearFaults()
	checkEveryPeriodAcceptedOnce(t, env, periods, 90*time.Second)
	for _, id := range ids {
		e := env.entry(id)
		if e.FileID != fileIDs[id] || !hasOperatorMove(e, alice) {
			t.Errorf("%s: file %s (was %s), history %+v", id.Key(), e.FileID, fileIDs[id], e.History)
		}
	}
}

// resubmit resubmits the entry at key, again when a driver changed it meanwhile (a refusal that says so).
func resubmit(t *testing.T, svc *parked.Service, key string) {
	t.Helper()
	for range 20 {
		_, err := svc.Resubmit(context.Background(), key, alice, "the provider fixed the asset")
		if err == nil {
			return
		}
		if !errors.Is(err, parked.ErrRefused) || !strings.Contains(err.Error(), "changed meanwhile") {
			t.Fatalf("resubmit %s: %v", key, err)
		}
	}
	t.Fatalf("resubmit %s: changed meanwhile 20 times", key)
}

func hasOperatorMove(e *ledger.Entry, by ledger.Actor) bool {
	for _, tr := range e.History {
		if tr.By == by.String() && tr.State == ledger.StateCreated {
			return true
		}
	}
	return false
}
