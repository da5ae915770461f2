package status_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/parked"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
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

// keptRejection stores e in USAGE_DLQ as ingest keeps a rejection for reason (--keep-rejected).
func keptRejection(t *testing.T, w *pipelinetest.World, e events.Event, reason events.Reason) {
	t.Helper()
	raw, _ := json.Marshal(e)
	dl := events.DeadLetter{Stage: events.StageIngest, Reason: reason, Message: string(reason),
		Subject: subjects.Events(events.Partition(e.Subject, w.Partitions)), At: time.Now().UTC()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	if _, err := w.Conn.Publish(context.Background(), bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, reason), Data: data}); err != nil {
		t.Fatal(err)
	}
}

func deadLetterCount(r *status.Report, stage, reason string) status.DeadLetterCount {
	for _, d := range r.DeadLetters {
		if d.Stage == stage && d.Reason == reason {
			return d
		}
	}
	return status.DeadLetterCount{}
}

// TestStatusCountsOpenDeadLetters: a kept rejection and an aggregator dead letter are open problems; once the
// kept one is replayed (its cause fixed: the catalog has the product) it is counted as stored, not open, and
// is no problem; open letters older than the window are warnings, not problems.
func TestStatusCountsOpenDeadLetters(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	now := time.Now().UTC()
	keptRejection(t, w, pipelinetest.Event("k1", fast, "AS-0400-0000-0001", "UNITS", "2", now), events.ReasonUnknownProduct)
	w.Publish(pipelinetest.Event("b1", fast, "AS-0400-0000-0002", "UNITS", "1.999", now))
	var r *status.Report
	w.WaitFor(20*time.Second, "two open dead-letter problems", func() bool {
		r = build(t, w, status.Options{})
		return codes(r.Problems)[status.ProblemDeadLetters] == 2
	})
	letters, err := deadletter.New(w.Conn, w.Ledger, w.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := letters.Replay(context.Background(), deadletter.Filter{Stage: events.StageIngest},
		deadletter.ReplayOptions{Execute: true, Actor: ledger.Actor{Name: "op", Via: "test"}})
	if err != nil || len(rep.Items) != 1 || rep.Items[0].Decision != deadletter.DecisionCount {
		t.Fatalf("replay: %+v, %v", rep, err)
	}
	r = build(t, w, status.Options{})
	kept, agg := deadLetterCount(r, "ingest", "unknown_product"), deadLetterCount(r, "aggregator", "bad_quantity")
	if kept.Total != 1 || kept.Open != 0 || kept.OpenRecent != 0 || agg.Total != 1 || agg.OpenRecent != 1 ||
		codes(r.Problems)[status.ProblemDeadLetters] != 1 {
		t.Fatalf("after the replay: kept %+v, aggregator %+v, problems %+v", kept, agg, r.Problems)
	}
	later := build(t, w, status.Options{Now: func() time.Time { return now.Add(48 * time.Hour) }})
	if c := codes(later.Problems)[status.ProblemDeadLetters]; c != 0 || codes(later.Warnings)[status.WarnOldDeadLetters] != 1 {
		t.Errorf("two days later: problems %+v, warnings %+v", later.Problems, later.Warnings)
	}
}

// TestStatusAbandonedAndBaseParked: a supplement in Connect whose base the provider then rejects is a
// base_parked problem beside the parked base and its overdue period; once an operator abandons the base
// (with a note) none of the three is a problem, the period shows as abandoned, and explain shows who
// abandoned the file and why.
func TestStatusAbandonedAndBaseParked(t *testing.T) {
	w := pipelinetest.StartWith(t, 4, connectemu.ProviderPolicy{}) // the provider decides by hand
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	sub := "AS-0500-0000-0001"
	w.Publish(pipelinetest.Event("ab1", fast, sub, "UNITS", "1", t0))
	prod, _ := w.Catalog.Product(fast)
	base := ledger.FileID{Product: fast, Contract: pipelinetest.Contract, PeriodStart: prod.PeriodOf(t0).Start, Part: 1}
	supp := base
	supp.Revision = 1
	b := waitState(t, w, base.Key(), ledger.StateSubmitted)
	w.Publish(pipelinetest.Event("ab2", fast, sub, "UNITS", "2", t0)) // late: a supplement
	waitState(t, w, supp.Key(), ledger.StateSubmitted)
	if err := w.Emulator.Reject(b.FileID, "no such deal"); err != nil {
		t.Fatal(err)
	}
	o := status.Options{OverdueAfter: time.Second}
	var r *status.Report
	w.WaitFor(30*time.Second, "parked, base_parked and overdue problems", func() bool {
		r = build(t, w, o)
		c := codes(r.Problems)
		return c[status.ProblemParked] == 1 && c[status.ProblemBaseParked] == 1 && c[status.ProblemOverdue] == 1
	})
	if len(r.BaseParked) != 1 || r.BaseParked[0].Key != supp.Key() || r.BaseParked[0].Base != base.Key() {
		t.Fatalf("base parked %+v", r.BaseParked)
	}
	svc, err := parked.New(w.Ledger, w.Conn, w.Connect, w.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Abandon(context.Background(), base.Key(), ledger.Actor{Name: "op", Via: "test"}, "the deal was cancelled"); err != nil {
		t.Fatal(err)
	}
	r = build(t, w, o)
	c := codes(r.Problems)
	if c[status.ProblemParked] != 0 || c[status.ProblemBaseParked] != 0 || c[status.ProblemOverdue] != 0 {
		t.Errorf("after the abandon: problems %+v", r.Problems)
	}
	for _, p := range r.Periods {
		if p.Product == fast && p.PeriodStart.Equal(base.PeriodStart) && (!p.Abandoned || p.Reported) {
			t.Errorf("period %+v, want abandoned", p)
		}
	}
	explainAbandoned(t, w, base.Key())
}

// explainAbandoned wants explain to show the abandoned file's move and the action, by the operator, with the note.
func explainAbandoned(t *testing.T, w *pipelinetest.World, key string) {
	t.Helper()
	l, err := lineage.New(context.Background(), w.Conn, lineage.Options{Catalog: w.Catalog, Partitions: w.Partitions, Connect: w.Connect})
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.ExplainFile(context.Background(), lineage.FileQuery{ID: key})
	if err != nil {
		t.Fatal(err)
	}
	last := a.History[len(a.History)-1]
	if a.File.State != string(ledger.StateAbandoned) || last.By != "op (test)" || !strings.Contains(last.Note, "the deal was cancelled") ||
		len(a.Actions) != 1 || a.Actions[0].Action != "abandon" || len(a.Records) != 1 {
		t.Errorf("explain of the abandoned file: %s\nhistory %+v\nactions %+v", a.Summary, a.History, a.Actions)
	}
}

// waitState waits until the ledger entry at key is in state.
func waitState(t *testing.T, w *pipelinetest.World, key string, state ledger.State) *ledger.Entry {
	t.Helper()
	var e *ledger.Entry
	w.WaitFor(60*time.Second, key+" "+string(state), func() bool {
		var err error
		e, _, err = w.Ledger.Get(context.Background(), key)
		return err == nil && e.State == state
	})
	return e
}
