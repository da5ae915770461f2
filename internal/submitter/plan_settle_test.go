package submitter

import (
	"context"
	"testing"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// consumer settles deliveries as a JetStream consumer does: a message whose handler succeeded is acked and
// never delivered again; one whose handler failed is delivered again later, to whichever planner is next.
// before, if set, runs before each delivery (what drivers do meanwhile).
type consumer struct {
	t        *testing.T
	planners []*Submitter
	next     int
	before   func()
}

// deliver hands each message to a planner until every one is acked.
func (c *consumer) deliver(ctx context.Context, msgs ...*bus.Delivery) {
	c.t.Helper()
	pending := msgs
	for round := 0; len(pending) > 0; round++ {
		if round == 8 {
			c.t.Fatalf("%d messages still not acked after %d rounds", len(pending), round)
		}
		var again []*bus.Delivery
		for _, d := range pending {
			s := c.planners[c.next%len(c.planners)]
			c.next++
			if c.before != nil {
				c.before()
			}
			if err := s.plan.onAdjustment(ctx, d); err != nil {
				c.t.Logf("%s seq %d: %v (redelivered)", s.opts.MemberID, d.Seq, err)
				redelivery := *d
				redelivery.NumDelivered++
				again = append(again, &redelivery)
			}
		}
		pending = again
	}
}

// TestAdjustmentAfterAnUnindexedSupplementIsPlanned: supplement 1 is in the ledger but the index has not
// moved past it (its planner crashed between the two writes), and a newer adjustment is delivered first. The
// newer one must land in supplement 2, not be acked because supplement 1 was found and indexed; every
// delivery is settled once, as a consumer does.
func TestAdjustmentAfterAnUnindexedSupplementIsPlanned(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	pd := period(1)
	filter := subjects.Adjustments.Period(testProduct, testContract, pd.Start)
	crashed, _ := env.planner(DefaultMaxRecordsPerFile)
	survivor, _ := env.planner(DefaultMaxRecordsPerFile)
	env.agg.close(t, pd, nil) // no closed records: supplement 1 need not wait for a base
	env.adjustOne(pd, "AS-SETL-0001")
	env.adjustOne(pd, "AS-SETL-0002")
	old := env.deliveries(filter)
	ctx := context.Background()
	p := supplementPeriod{product: testProduct, contract: testContract, start: pd.Start, end: pd.End}
	if _, err := crashed.plan.planSupplementFiles(ctx, p, ledger.SupplementIndex{Next: 1}, triggerOf(old[len(old)-1])); err != nil {
		t.Fatal(err) // supplement 1 written; the crash comes before the index write
	}
	env.adjustOne(pd, "AS-SETL-0003")
	msgs := env.deliveries(filter)
	newest := msgs[len(msgs)-1]

	c := &consumer{t: t, planners: []*Submitter{survivor}, before: func() { env.handOver(pd) }}
	c.deliver(ctx, newest) // the newest first, while supplement 1 is not indexed
	c.deliver(ctx, old...) // the crashed planner's messages come back after its AckWait
	checkSupplements(t, env, survivor, pd, msgs, adjustmentIDs(t, msgs))
}

// triggerOf is the trigger of a delivered adjustment message, for tests that plan a supplement directly.
func triggerOf(d *bus.Delivery) trigger {
	return trigger{header: d.Header, time: d.Time, alive: noAlive}
}

// handOver moves every entry of pd still planned to submitted, as drivers do when they hand the files over
// to Connect: the planner then plans the period's next supplement (supplement_order.go).
func (env *testEnv) handOver(pd events.Period) {
	env.t.Helper()
	for _, parts := range env.revisions(pd) {
		for _, e := range parts {
			if e != nil && e.State == ledger.StatePlanned {
				env.setState(e.ID(), ledger.StateSubmitted)
			}
		}
	}
}
