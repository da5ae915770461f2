package submitter

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// TestTheSubmitterKeepsItsInjectedClock: the ledger history the planner and the driver write is stamped by
// the submitter's clock (here a day ahead of the wall clock), not by the wall clock.
func TestTheSubmitterKeepsItsInjectedClock(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0009", 2)
	env.seedAssets(subs...)
	o := env.options()
	o.Now = func() time.Time { return time.Now().Add(24 * time.Hour) }
	env.start(o)
	env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if len(e.History) == 0 {
		t.Fatal("no history")
	}
	ahead := time.Now().Add(23 * time.Hour)
	for _, h := range e.History {
		if h.At.Before(ahead) {
			t.Errorf("%s entered at %v: not the submitter's clock, a day ahead (after %v)", h.State, h.At, ahead)
		}
	}
}
