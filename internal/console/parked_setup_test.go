package console_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// A parked plan, made on purpose: a period whose marks count two closed records while USAGE_AGG holds one.
// The submitter parks its plan as records_missing (after its plan grace); a retry is refused while the
// record misses, and, once it is published, gets the period planned again and accepted.

// parkedStart is the period of the parked plan: long before the stack, so nothing else touches it.
var parkedStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// missingRecords are two closed records of the period, of two subscriptions in different partitions (of 2).
func missingRecords(t *testing.T, c devstack.Catalogs) []events.PeriodRecord {
	t.Helper()
	p, _ := c.Pipeline.Product(compute)
	pd := p.PeriodOf(parkedStart)
	var recs []events.PeriodRecord
	seen := map[int]bool{}
	for i, a := range []string{"AS-1010-0000-0001", "AS-1010-0000-0002", "AS-1010-0000-0003"} {
		part := events.Partition(a, 2)
		if seen[part] {
			continue
		}
		seen[part] = true
		recs = append(recs, events.PeriodRecord{Kind: events.RecordClosed, Product: compute, Contract: computeContract, Subscription: a,
			Item: "CPU-HOURS", PeriodStart: pd.Start, PeriodEnd: pd.End, Aggregation: events.AggregationSum, Mode: events.ModeTotal,
			Quantity: events.MustDecimal([]string{"1.5", "2", "2"}[i]), Events: 1, Partition: part})
	}
	if len(recs) != 2 {
		t.Skip("the sample assets all fall in one partition")
	}
	return recs
}

// publishMarks publishes each partition's mark of the period, counting its records.
func publishMarks(t *testing.T, conn *bus.Conn, recs []events.PeriodRecord) {
	t.Helper()
	for p := range 2 {
		n := 0
		for _, r := range recs {
			if r.Partition == p {
				n++
			}
		}
		m := events.PartitionMark{Product: compute, Contract: computeContract, PeriodStart: recs[0].PeriodStart,
			PeriodEnd: recs[0].PeriodEnd, Partition: p, Partitions: 2, Records: n}
		publishLine(t, conn, subjects.Marks.Subject(compute, computeContract, m.PeriodStart, p), events.KindMark, m)
	}
}

func publishRecord(t *testing.T, conn *bus.Conn, r events.PeriodRecord) {
	t.Helper()
	publishLine(t, conn, subjects.Records.Subject(r.Product, r.Contract, r.PeriodStart, r.Partition), events.KindRecords, r)
}

func publishLine(t *testing.T, conn *bus.Conn, subject, kind string, v any) {
	t.Helper()
	data, _ := json.Marshal(v)
	h := bus.Header{}
	h.Set(events.HeaderKind, kind)
	if _, err := conn.Publish(context.Background(), bus.Msg{Subject: subject, Header: h, Data: append(data, '\n')}); err != nil {
		t.Fatal(err)
	}
}

// parkPlan publishes the marks and the first record, and waits until the submitter has parked the plan; it
// returns the parked entry.
func parkPlan(t *testing.T, conn *bus.Conn, recs []events.PeriodRecord) *ledger.Entry {
	t.Helper()
	publishMarks(t, conn, recs)
	publishRecord(t, conn, recs[0])
	l, err := ledger.Open(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	key := ledger.FileID{Product: compute, Contract: computeContract, PeriodStart: recs[0].PeriodStart, Part: 1}.Key()
	var e *ledger.Entry
	waitFor(t, "the plan parked as records_missing", 60*time.Second, func() bool {
		e, _, err = l.Get(context.Background(), key)
		return err == nil && e.State == ledger.StateFailed
	})
	return e
}

// waitFor polls cond every 100 ms until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
