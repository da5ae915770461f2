package submitter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// filesWithExternalID counts the Connect files ever created with an external id, deleted ones included.
func (env *testEnv) filesWithExternalID(x string) int {
	n := 0
	for _, f := range env.emu.Files() {
		if f.ExternalID == x {
			n++
		}
	}
	return n
}

// setState overwrites the state of the ledger entry at id, as the driver would record it.
func (env *testEnv) setState(id ledger.FileID, st ledger.State) {
	env.t.Helper()
	ctx := context.Background()
	e, rev, err := env.ledger.Get(ctx, id.Key())
	if err != nil {
		env.t.Fatal(err)
	}
	e.State = st
	if _, err := env.ledger.Update(ctx, e, rev); err != nil {
		env.t.Fatal(err)
	}
}

// TestSupplementGoesOnOnceItsBaseIsSubmitted: with a provider that decides nothing (files stay pending), a
// supplement is created and submitted once its base is submitted: deltas commute, so it need not wait for
// the provider's decision on the base.
func TestSupplementGoesOnOnceItsBaseIsSubmitted(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider: files stay pending
	subs := subscriptions("GATE", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	env.closePeriod(pd, subs)
	base := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	b := env.waitState(base, 30*time.Second, ledger.StateSubmitted)

	env.adjustOne(pd, subs[0])
	supp := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}
	env.waitState(supp, 30*time.Second, ledger.StateSubmitted)
	if e := env.entry(base); e.State != ledger.StateSubmitted || e.FileID != b.FileID {
		t.Fatalf("base %s (file %s), want it still pending at the provider", e.State, e.FileID)
	}
}

func TestSupplementOfARejectedFileIsParked(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{})
	subs := subscriptions("GREJ", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	env.closePeriod(pd, subs)
	base := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	b := env.waitState(base, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Reject(b.FileID, "wrong"); err != nil {
		t.Fatal(err)
	}
	env.waitState(base, 30*time.Second, ledger.StateRejected)
	env.adjustOne(pd, subs[0])
	supp := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}
	e := env.waitState(supp, 30*time.Second, ledger.StateFailed)
	if !strings.Contains(e.Reason, base.Key()+" is rejected") || env.filesWithExternalID(supp.ExternalID()) != 0 {
		t.Errorf("reason %q, %d Connect files", e.Reason, env.filesWithExternalID(supp.ExternalID()))
	}
}

// TestGateOrdersSupplements checks the gate on ledger entries: supplement 1 after its base is submitted,
// supplement 2 after supplement 1 is submitted (or ended), a failed base blocking, and a period without
// closed records letting supplements through once it is marked.
func TestGateOrdersSupplements(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	ctx := context.Background()
	pd := period(1)
	env.closePeriod(pd, subscriptions("GORD", 2))
	if err := s.plan.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"AS-GORD-0001", "AS-GORD-0002"} {
		env.handOver(pd) // the planner plans a supplement once the file before it is handed over
		env.adjustOne(pd, sub)
		adj := env.deliveries(subjects.Adjustments.Period(testProduct, testContract, pd.Start))
		if err := s.plan.onAdjustment(ctx, adj[len(adj)-1]); err != nil {
			t.Fatal(err)
		}
	}
	id := func(rev int) ledger.FileID {
		return ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: rev, Part: 1}
	}
	verdict := func(rev int) gateVerdict {
		t.Helper()
		v, err := s.drive.gate(ctx, env.entry(id(rev)))
		if err != nil && v != gateBlocked {
			t.Fatal(err)
		}
		return v
	}
	for _, step := range []struct {
		set       ledger.FileID
		to        ledger.State
		rev       int
		want      gateVerdict
		situation string
	}{
		{id(0), ledger.StateReady, 1, gateWait, "base processed, not submitted"},
		{id(0), ledger.StateSubmitted, 1, gateOpen, "base pending at the provider"},
		{id(0), ledger.StateAccepted, 1, gateOpen, "base accepted"},
		{id(1), ledger.StateReady, 2, gateWait, "supplement 1 not submitted"},
		{id(1), ledger.StateSubmitted, 2, gateOpen, "supplement 1 pending"},
		{id(1), ledger.StateRejected, 2, gateOpen, "supplement 1 ended"},
		{id(0), ledger.StateFailed, 2, gateBlocked, "base failed"},
	} {
		env.setState(step.set, step.to)
		if got := verdict(step.rev); got != step.want {
			t.Errorf("%s: supplement %d gate %d, want %d", step.situation, step.rev, got, step.want)
		}
	}

	empty := period(2) // no closed records: no base file, once every partition has marked it
	env.adjustOne(empty, "AS-GORD-0001")
	adj := env.deliveries(subjects.Adjustments.Period(testProduct, testContract, empty.Start))
	first := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: empty.Start, Revision: 1, Part: 1}
	mark := events.PartitionMark{Product: testProduct, Contract: testContract, PeriodStart: empty.Start,
		PeriodEnd: empty.End, Partitions: testPartitions}
	var hold holdError
	for p := range testPartitions {
		if err := s.plan.onAdjustment(ctx, adj[0]); !errors.As(err, &hold) || env.entry(first) != nil {
			t.Errorf("%d of %d partitions marked: %v, want the supplement held", p, testPartitions, err)
		}
		mark.Partition = p
		env.agg.commit(t, p, nil, nil, []events.PartitionMark{mark})
	}
	if err := s.plan.onAdjustment(ctx, adj[0]); err != nil {
		t.Fatalf("every partition marked, no record: %v", err)
	}
	if v, err := s.drive.gate(ctx, env.entry(first)); err != nil || v != gateOpen {
		t.Errorf("every partition marked, no record: gate %d (%v), want open", v, err)
	}
}
