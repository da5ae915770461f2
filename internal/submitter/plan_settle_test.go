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
type consumer struct {
	t        *testing.T
	planners []*Submitter
	next     int
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
	env.adjustOne(pd, "AS-SETL-0001")
	env.adjustOne(pd, "AS-SETL-0002")
	old := env.deliveries(filter)
	ctx := context.Background()
	r := &events.PeriodRecord{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, PeriodEnd: pd.End}
	if _, err := crashed.plan.planSupplementFiles(ctx, r, ledger.SupplementIndex{Next: 1}, old[len(old)-1]); err != nil {
		t.Fatal(err) // supplement 1 written; the crash comes before the index write
	}
	env.adjustOne(pd, "AS-SETL-0003")
	msgs := env.deliveries(filter)
	newest := msgs[len(msgs)-1]

	c := &consumer{t: t, planners: []*Submitter{survivor}}
	c.deliver(ctx, newest) // the newest first, while supplement 1 is not indexed
	c.deliver(ctx, old...) // the crashed planner's messages come back after its AckWait
	checkSupplements(t, env, survivor, pd, msgs, adjustmentIDs(t, msgs))
}
