package submitter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
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
func (env *testEnv) setState(id FileID, st State) {
	env.t.Helper()
	ctx := context.Background()
	e, rev, err := env.ledger.get(ctx, id.Key())
	if err != nil {
		env.t.Fatal(err)
	}
	e.State = st
	if _, err := env.ledger.update(ctx, e, rev); err != nil {
		env.t.Fatal(err)
	}
}

func TestSupplementWaitsForItsBaseFile(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider: files stay pending
	subs := subscriptions("GATE", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	env.closePeriod(pd, subs)
	base := FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	b := env.waitState(base, 30*time.Second, StateSubmitted)

	env.adjustOne(pd, subs[0])
	supp := FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}
	waitFor(t, 30*time.Second, "the supplement looked at its gate twice", func() bool {
		e := env.entry(supp)
		return e != nil && e.Polls >= 2
	})
	if e := env.entry(supp); e.State != StatePlanned || env.filesWithExternalID(supp.ExternalID()) != 0 {
		t.Fatalf("supplement %s with file %q while its base is pending; Connect has %d files for it", e.State, e.FileID,
			env.filesWithExternalID(supp.ExternalID()))
	}
	if err := env.emu.Accept(b.FileID, "ok"); err != nil {
		t.Fatal(err)
	}
	env.waitState(supp, 30*time.Second, StateSubmitted)
}

func TestSupplementOfARejectedFileIsParked(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{})
	subs := subscriptions("GREJ", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	env.closePeriod(pd, subs)
	base := FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	b := env.waitState(base, 30*time.Second, StateSubmitted)
	if err := env.emu.Reject(b.FileID, "wrong"); err != nil {
		t.Fatal(err)
	}
	env.waitState(base, 30*time.Second, StateRejected)
	env.adjustOne(pd, subs[0])
	supp := FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: 1, Part: 1}
	e := env.waitState(supp, 30*time.Second, StateFailed)
	if !strings.Contains(e.Reason, base.Key()+" is rejected") || env.filesWithExternalID(supp.ExternalID()) != 0 {
		t.Errorf("reason %q, %d Connect files", e.Reason, env.filesWithExternalID(supp.ExternalID()))
	}
}

// TestGateOrdersSupplements checks the gate on ledger entries: supplement 2 after supplement 1, a failed
// base blocking, and a period without closed records letting supplements through once it is marked.
func TestGateOrdersSupplements(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	s, _ := env.planner(DefaultMaxRecordsPerFile)
	ctx := context.Background()
	pd := period(1)
	env.closePeriod(pd, subscriptions("GORD", 2))
	if err := s.onMark(ctx, env.lastMark(pd)); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"AS-GORD-0001", "AS-GORD-0002"} {
		env.adjustOne(pd, sub)
		adj := env.deliveries(periodSubject(subjectAdjustments, testProduct, testContract, pd.Start, "*"))
		if err := s.onAdjustment(ctx, adj[len(adj)-1]); err != nil {
			t.Fatal(err)
		}
	}
	id := func(rev int) FileID {
		return FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: rev, Part: 1}
	}
	verdict := func(rev int) gateVerdict {
		t.Helper()
		v, err := s.gate(ctx, env.entry(id(rev)))
		if err != nil && v != gateBlocked {
			t.Fatal(err)
		}
		return v
	}
	for _, step := range []struct {
		set       FileID
		to        State
		rev       int
		want      gateVerdict
		situation string
	}{
		{id(0), StateSubmitted, 1, gateWait, "base pending"},
		{id(0), StateAccepted, 1, gateOpen, "base accepted"},
		{id(1), StateSubmitted, 2, gateWait, "supplement 1 pending"},
		{id(1), StateRejected, 2, gateOpen, "supplement 1 ended"},
		{id(0), StateFailed, 2, gateBlocked, "base failed"},
	} {
		env.setState(step.set, step.to)
		if got := verdict(step.rev); got != step.want {
			t.Errorf("%s: supplement %d gate %d, want %d", step.situation, step.rev, got, step.want)
		}
	}

	empty := period(2) // no closed records: no base file, once every partition has marked it
	env.adjustOne(empty, "AS-GORD-0001")
	adj := env.deliveries(periodSubject(subjectAdjustments, testProduct, testContract, empty.Start, "*"))
	if err := s.onAdjustment(ctx, adj[0]); err != nil {
		t.Fatal(err)
	}
	e := env.entry(FileID{Product: testProduct, Contract: testContract, PeriodStart: empty.Start, Revision: 1, Part: 1})
	mark := events.PartitionMark{Product: testProduct, Contract: testContract, PeriodStart: empty.Start,
		PeriodEnd: empty.End, Partitions: testPartitions}
	for p := range testPartitions {
		if v, err := s.gate(ctx, e); err != nil || v != gateWait {
			t.Errorf("%d of %d partitions marked: gate %d (%v), want wait", p, testPartitions, v, err)
		}
		mark.Partition = p
		env.agg.commit(t, p, nil, nil, []events.PartitionMark{mark})
	}
	if v, err := s.gate(ctx, e); err != nil || v != gateOpen {
		t.Errorf("every partition marked, no record: gate %d (%v), want open", v, err)
	}
}
