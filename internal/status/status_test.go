package status_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

func TestMain(m *testing.M) { pipelinetest.Main(m) }

const fast = pipelinetest.FastProduct

func build(t *testing.T, w *pipelinetest.World, o status.Options) *status.Report {
	t.Helper()
	o.Catalog, o.Partitions = w.Catalog, w.Partitions
	r, err := status.Build(context.Background(), w.Conn, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func codes(ps []status.Problem) map[string]int {
	m := map[string]int{}
	for _, p := range ps {
		m[p.Code]++
	}
	return m
}

// TestStatusHealthyThenDeadLettersThenNoOwner: a running system has no problem; a dead-lettered event is one;
// an aggregator SIGKILLed (its partitions owned by nobody once its leases expire) is one per partition.
func TestStatusHealthyThenDeadLettersThenNoOwner(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	agg := w.StartAggregatorChild("k1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	w.Publish(pipelinetest.Event("s1", fast, "AS-0200-0000-0001", "UNITS", "1", t0))
	w.WaitAccepted(fast, t0, 0, 60*time.Second)
	var r *status.Report
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = build(t, w, status.Options{})
		if r.OK() && len(r.Aggregators) == 1 && len(r.Aggregators[0].Partitions) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("problems %+v, aggregators %+v", r.Problems, r.Aggregators)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sb strings.Builder
	r.WriteText(&sb)
	t.Log(sb.String())
	reported := false
	for _, p := range r.Periods {
		reported = reported || p.Product == fast && p.Reported && p.Files["accepted"] == 1 && p.Marked == 4
	}
	if !reported || codes(r.Warnings)[status.WarnNoIngest] != 1 {
		t.Fatalf("healthy report: periods %+v, warnings %+v", r.Periods, r.Warnings)
	}

	w.Publish(pipelinetest.Event("s2", fast, "AS-0200-0000-0002", "UNITS", "1.999", time.Now()))
	w.WaitFor(20*time.Second, "a dead-letter problem", func() bool {
		r = build(t, w, status.Options{})
		return codes(r.Problems)[status.ProblemDeadLetters] == 1
	})
	agg.Kill()
	w.WaitFor(20*time.Second, "no owner of any partition", func() bool {
		r = build(t, w, status.Options{})
		return codes(r.Problems)[status.ProblemNoOwner] == 4
	})
	sb.Reset()
	r.WriteText(&sb)
	if !strings.Contains(sb.String(), "no_owner") || !strings.Contains(sb.String(), "NONE") {
		t.Errorf("the text does not show the missing owners:\n%s", sb.String())
	}
}

// TestStatusShowsParkedAndOverdue: a file the provider rejects is parked, and its period overdue.
func TestStatusShowsParkedAndOverdue(t *testing.T) {
	w := pipelinetest.StartWith(t, 4, connectemu.ProviderPolicy{Auto: true, RejectShare: 1, RejectNote: "no such deal"})
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	w.Publish(pipelinetest.Event("p1", fast, "AS-0300-0000-0001", "UNITS", "1", t0))
	prod, _ := w.Catalog.Product(fast)
	id := ledger.FileID{Product: fast, Contract: pipelinetest.Contract, PeriodStart: prod.PeriodOf(t0).Start, Part: 1}
	var r *status.Report
	w.WaitFor(60*time.Second, "a parked and overdue period", func() bool {
		r = build(t, w, status.Options{OverdueAfter: time.Second})
		c := codes(r.Problems)
		return c[status.ProblemParked] == 1 && c[status.ProblemOverdue] >= 1
	})
	if r.OK() || len(r.Parked) != 1 || r.Parked[0].Key != id.Key() || r.Parked[0].State != "rejected" {
		t.Fatalf("parked %+v, problems %+v", r.Parked, r.Problems)
	}
}
