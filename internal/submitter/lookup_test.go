package submitter

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

// TestCreateOfUnknownOutcomeIsLookedUpBeforeAnother: the first create makes the file but its answer is
// lost, and Connect's list misses the new file for the next two lists. The client does not retry, so the
// step fails; the submitter must look the file up again (it appears at the third list) rather than create
// a second one.
func TestCreateOfUnknownOutcomeIsLookedUpBeforeAnother(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("LAG0", 2)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("files.create", usageapitest.Fault{Kind: usageapitest.FaultCommitDrop},
		usageapitest.Fault{Kind: usageapitest.FaultListLag, Lists: 2}); err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.Retry = usageapi.RetryPolicy{MaxAttempts: 1}
	env.start(o)
	env.closePeriod(period(1), subs)
	e := env.waitState(FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1},
		30*time.Second, StateAccepted)
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 || e.Relists != 0 {
		t.Errorf("%d external ids, created more than once: %v; relists left %d", ids, twice, e.Relists)
	}
}
