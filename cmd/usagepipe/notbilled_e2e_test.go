package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// TestUnknownProductKeptFixedAndReplayedOnce: events of a product the catalog lacks are rejected and kept by
// ingest; the catalog is fixed (the stack restarts with it); the replay, killed at each of its crash points
// before a run that finishes, gets each counted once, in a supplementary file of its period; replayed again,
// nothing new.
func TestUnknownProductKeptFixedAndReplayedOnce(t *testing.T) {
	e := newNBEnv(t)
	full := e.cats
	var without []events.Product
	for _, p := range full.Pipeline.Products {
		if p.ID != compute {
			without = append(without, p)
		}
	}
	broken, err := events.NewCatalog(without)
	if err != nil {
		t.Fatal(err)
	}
	e.cats.Pipeline = broken
	e.start(devstack.Options{})
	sent := []events.Event{computeUsage("u-1", "AS-1010-0000-0001", "CPU-HOURS", "1.5"), computeUsage("u-2", "AS-1010-0000-0002", "CPU-HOURS", "2.25"),
		computeUsage("u-3", "AS-1010-0000-0003", "CPU-HOURS", "3"), computeUsage("u-4", "AS-1010-0000-0001", "PEAK-MEMORY-GB", "7.5")}
	if got := e.post(sent...); got.Rejected != 4 || got.Results[0].Reason != events.ReasonUnknownProduct {
		t.Fatalf("ingest answered %+v", got)
	}
	e.cats = full
	e.start(devstack.Options{}) // the catalog fixed
	for _, ev := range sent {
		e.waitClosed(compute, computeContract, ev.Time) // so the replayed events are late: adjustments
	}
	out, _, err := e.operator("", "dlq", "replay", "--json")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	onlyDecision(t, out, 4, "adjust")
	if out, err := e.reconcile(); err == nil || !strings.Contains(out, "ingest unknown_product: 4 open") {
		t.Errorf("reconcile before the replay: %v\n%s", err, out)
	}
	var before lineage.EventAnswer
	e.explain(&before, "--source", sent[0].Source, "--id", sent[0].ID, "--subject", sent[0].Subject, "--time", sent[0].Time.Format(time.RFC3339Nano))
	if before.Found || len(before.Kept) != 1 || before.Kept[0].State != "open" || before.Kept[0].Reason != events.ReasonUnknownProduct ||
		len(before.Replays) != 0 || !strings.Contains(before.Summary, "dlq replay --id "+before.Kept[0].ID) {
		t.Errorf("explain before the replay: %+v", before)
	}
	e.crashThrough(replaySteps, "dlq", "replay", "--execute")
	out, _, err = e.operator("", "dlq", "replay", "--execute", "--json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	files := e.waitBilled(compute, map[billedKey]string{{"AS-1010-0000-0001", "CPU-HOURS"}: "1.5",
		{"AS-1010-0000-0002", "CPU-HOURS"}: "2.25", {"AS-1010-0000-0003", "CPU-HOURS"}: "3",
		{"AS-1010-0000-0001", "PEAK-MEMORY-GB"}: "7.5"}, 90*time.Second)
	for _, x := range files {
		if !strings.Contains(x, ":r1:") && !strings.Contains(x, ":r2:") {
			t.Errorf("file %s is not a supplementary file", x)
		}
	}
	out, _, err = e.operator("", "dlq", "replay", "--execute", "--json")
	if err != nil {
		t.Fatalf("second replay: %v\n%s", err, out)
	}
	onlyDecision(t, out, 4, "replayed")
	if n := e.copies(bus.StreamEvents); n != 4 {
		t.Errorf("%d copies published, want 4", n)
	}
	e.wantNoOpenLetters()
	if out, err := e.reconcile(); err != nil || !strings.Contains(out, "reconcile: 0 problems") {
		t.Errorf("reconcile after the replay: %v\n%s", err, out)
	}
	e.wantReplayExplained(sent[0], before.Kept[0].ID)
}

// wantReplayExplained wants explain to show ev counted once, in an accepted supplementary file, by the copy
// the replay of letter published, and the replay: by the tester, done.
func (e *nbEnv) wantReplayExplained(ev events.Event, letter string) {
	e.t.Helper()
	var a lineage.EventAnswer
	e.explain(&a, "--source", ev.Source, "--id", ev.ID, "--subject", ev.Subject, "--time", ev.Time.Format(time.RFC3339Nano))
	var counted int
	for _, c := range a.Copies {
		if c.Fate == lineage.FateCounted {
			counted++
			if c.Replay != letter {
				e.t.Errorf("the counted copy (seq %d) is not the replay of %s: %+v", c.Seq, letter, c)
			}
		}
	}
	c := a.Counting
	if counted != 1 || c == nil || c.State != lineage.CountAdjusted || c.File == nil || c.File.Revision < 1 || c.File.ConnectStatus != "accepted" {
		e.t.Errorf("explain after the replay: %s", a.Summary)
	}
	if len(a.Kept) != 1 || a.Kept[0].State != "replayed" || len(a.Replays) != 1 || a.Replays[0].DeadLetter != letter ||
		a.Replays[0].State != ledger.ReplayDone || a.Replays[0].Actor.Name != "tester" || a.Replays[0].Seq == 0 {
		e.t.Errorf("explain's replays: kept %+v, replays %+v", a.Kept, a.Replays)
	}
	e.t.Logf("explain after the replay: %s", a.Summary)
}

// waitClosed waits until every partition has marked the period holding the instant at.
func (e *nbEnv) waitClosed(product, contract string, at time.Time) {
	e.t.Helper()
	p, _ := e.cats.Pipeline.Product(product)
	pd := p.PeriodOf(at)
	waitFor(e.t, "period "+pd.Key()+" marked", 60*time.Second, func() bool {
		marked := map[int]bool{}
		_ = e.conn.Read(context.Background(), bus.StreamAgg, bus.ReadOptions{Filters: []string{subjects.Marks.Period(product, contract, pd.Start)}},
			func(m bus.Msg) error {
				var x events.PartitionMark
				_ = json.Unmarshal(bytes.TrimSpace(m.Data), &x)
				marked[x.Partition] = true
				return nil
			})
		return len(marked) == 2
	})
}

// wantNoOpenLetters wants dlq list to show every dead letter replayed.
func (e *nbEnv) wantNoOpenLetters() {
	e.t.Helper()
	out, _, err := e.operator("", "dlq", "list", "--open", "--json")
	var l deadletter.Listing
	if err != nil || json.Unmarshal([]byte(out), &l) != nil || len(l.Letters) != 0 {
		e.t.Errorf("open dead letters left (%v):\n%s", err, out)
	}
}

// TestConnectInvalidRecordsReplayedOnceTheAssetExists: records of an asset Connect does not know are
// dead-lettered as connect_invalid; the asset is added; the replay, killed at each crash point, resubmits
// each once in a supplementary file, accepted.
func TestConnectInvalidRecordsReplayedOnceTheAssetExists(t *testing.T) {
	e := newNBEnv(t)
	connect := *e.cats.Connect
	connect.Assets = slices.DeleteFunc(slices.Clone(connect.Assets), func(a connectemu.CatalogAsset) bool { return a.ID == "AS-1010-0000-0003" })
	e.cats.Connect = &connect
	e.start(devstack.Options{})
	if got := e.post(computeUsage("c-1", "AS-1010-0000-0001", "CPU-HOURS", "1.5"), computeUsage("c-2", "AS-1010-0000-0003", "CPU-HOURS", "2.5"),
		computeUsage("c-3", "AS-1010-0000-0003", "API-CALLS", "1"), computeUsage("c-4", "AS-1010-0000-0003", "PEAK-MEMORY-GB", "4.25")); got.Accepted != 4 {
		t.Fatalf("ingest answered %+v", got)
	}
	e.waitBilled(compute, map[billedKey]string{{"AS-1010-0000-0001", "CPU-HOURS"}: "1.5"}, 90*time.Second)
	svc, err := deadletter.New(e.conn, e.ledger, e.cats.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	var invalid []deadletter.Letter
	waitFor(t, "three connect_invalid dead letters", 60*time.Second, func() bool {
		l, err := svc.List(context.Background(), deadletter.Filter{Reason: "connect_invalid"})
		invalid = l.Letters
		return err == nil && len(l.Letters) == 3
	})
	if out, err := e.reconcile(); err == nil || !strings.Contains(out, "submitter connect_invalid: 3 open") || !strings.Contains(out, "3 lost") {
		t.Errorf("reconcile before the replay: %v\n%s", err, out)
	}
	if err := e.st.Emulator().AddAsset(connectemu.CatalogAsset{ID: "AS-1010-0000-0003", Product: compute, ExternalID: "101003"}); err != nil {
		t.Fatal(err)
	}
	e.crashThrough(replaySteps, "dlq", "replay", "--execute", "--stage", "submitter")
	out, _, err := e.operator("", "dlq", "replay", "--execute", "--json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	e.waitBilled(compute, map[billedKey]string{{"AS-1010-0000-0001", "CPU-HOURS"}: "1.5", {"AS-1010-0000-0003", "CPU-HOURS"}: "2.5",
		{"AS-1010-0000-0003", "API-CALLS"}: "1", {"AS-1010-0000-0003", "PEAK-MEMORY-GB"}: "4.25"}, 90*time.Second)
	out, _, err = e.operator("", "dlq", "replay", "--execute", "--json")
	if err != nil {
		t.Fatalf("second replay: %v\n%s", err, out)
	}
	onlyDecision(t, out, 3, "replayed")
	if n := e.copies(bus.StreamAgg); n != 3 {
		t.Errorf("%d resubmissions published, want 3", n)
	}
	e.wantNoOpenLetters()
	if out, err := e.reconcile(); err != nil || !strings.Contains(out, "reconcile: 0 problems") {
		t.Errorf("reconcile after the replay (lost = 0, dead letters included): %v\n%s", err, out)
	}
	l := invalid[0]
	var a lineage.RecordAnswer
	e.explain(&a, "--record", l.Record.RecordID(), "--subject", l.Record.Subscription)
	if a.File == nil || !a.File.Excluded || len(a.DeadLetters) != 1 || a.DeadLetters[0].ID != l.ID || a.DeadLetters[0].State != "replayed" ||
		len(a.Replays) != 1 || a.Replays[0].State != ledger.ReplayDone || a.Replays[0].Actor.Name != "tester" {
		t.Errorf("explain of the record Connect refused: %s\nletters %+v, replays %+v", a.Summary, a.DeadLetters, a.Replays)
	}
	t.Logf("explain of the record: %s", a.Summary)
}

// entryOf waits for the ledger entry of product's revision-0 file and returns it once it is in state.
func (e *nbEnv) entryOf(product string, state ledger.State, timeout time.Duration) *ledger.Entry {
	e.t.Helper()
	var found *ledger.Entry
	waitFor(e.t, "a file of "+product+" "+string(state), timeout, func() bool {
		entries, err := e.ledger.Entries(context.Background(), ledger.FilesPrefix)
		for _, x := range entries {
			if err == nil && x.Product == product && x.Revision == 0 && x.State == state {
				found = x
				return true
			}
		}
		return false
	})
	return found
}

// waitEntry waits until the entry at key is in state.
func (e *nbEnv) waitEntry(key string, state ledger.State, timeout time.Duration) *ledger.Entry {
	e.t.Helper()
	var x *ledger.Entry
	waitFor(e.t, key+" "+string(state), timeout, func() bool {
		var err error
		x, _, err = e.ledger.Get(context.Background(), key)
		return err == nil && x.State == state
	})
	return x
}

// TestRejectedFileResubmittedAndAcceptedOnce: a file the provider rejects is resubmitted by an operator,
// killed before and after the entry's move; the same Connect file is uploaded again and accepted, once.
func TestRejectedFileResubmittedAndAcceptedOnce(t *testing.T) {
	e := newNBEnv(t)
	e.start(devstack.Options{AcceptAfter: time.Hour}) // the provider decides by hand
	if got := e.post(computeUsage("r-1", "AS-1010-0000-0001", "CPU-HOURS", "3.5"), computeUsage("r-2", "AS-1010-0000-0002", "CPU-HOURS", "1.25")); got.Accepted != 2 {
		t.Fatalf("ingest answered %+v", got)
	}
	x := e.entryOf(compute, ledger.StateSubmitted, 90*time.Second)
	if err := e.st.Emulator().Reject(x.FileID, "asset mismatch"); err != nil {
		t.Fatal(err)
	}
	e.waitEntry(x.Key, ledger.StateRejected, 30*time.Second)
	e.crashThrough([]string{"checked"}, "parked", "resubmit", x.Key, "--note", "asset fixed")
	if now := e.waitEntry(x.Key, ledger.StateRejected, time.Second); now.Reupload != nil {
		t.Fatalf("a resubmission killed before its move moved the entry: %+v", now)
	}
	e.crashThrough([]string{"moved"}, "parked", "resubmit", x.FileID, "--note", "asset fixed")
	if out, _, err := e.operator("", "parked", "resubmit", x.Key); err == nil || !strings.Contains(out, "not parked") {
		t.Errorf("a second resubmission: %v\n%s", err, out)
	}
	again := e.waitEntry(x.Key, ledger.StateSubmitted, 60*time.Second)
	if again.FileID != x.FileID {
		t.Fatalf("resubmitted into %s, not the rejected file %s", again.FileID, x.FileID)
	}
	if err := e.st.Emulator().Accept(x.FileID, "ok"); err != nil {
		t.Fatal(err)
	}
	e.waitEntry(x.Key, ledger.StateAccepted, 30*time.Second)
	e.waitBilled(compute, map[billedKey]string{{"AS-1010-0000-0001", "CPU-HOURS"}: "3.5", {"AS-1010-0000-0002", "CPU-HOURS"}: "1.25"}, 30*time.Second)
	n := 0
	for _, f := range e.st.Emulator().Files() {
		if f.ExternalID == x.ExternalID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d Connect files for %s, want 1", n, x.ExternalID)
	}
	// The resubmission was killed after its move, before the period's action log: the entry's history (the
	// move's own write) is its record.
	var fa lineage.FileAnswer
	e.explain(&fa, "--file", x.FileID)
	if !hasMove(fa.History, ledger.StateCreated, "tester", "asset fixed") || fa.File.State != string(ledger.StateAccepted) {
		t.Errorf("explain of the resubmitted file: %s\nhistory %+v", fa.Summary, fa.History)
	}
}

// hasMove reports whether history holds a move to state made by the operator named by, with note in its note.
func hasMove(history []ledger.Transition, state ledger.State, by, note string) bool {
	return slices.ContainsFunc(history, func(t ledger.Transition) bool {
		return t.State == state && strings.HasPrefix(t.By, by+" ") && strings.Contains(t.Note, note)
	})
}

// hasAction reports whether actions holds what by an operator named by, with note.
func hasAction(actions []ledger.Action, what, by, note string) bool {
	return slices.ContainsFunc(actions, func(a ledger.Action) bool { return a.Action == what && a.Actor.Name == by && a.Note == note })
}

// TestRecordsMissingParkedRetriedOnceFixed: a period whose marks count more records than USAGE_AGG holds is
// parked as records_missing; parked retry is refused while they miss, and, once they are there, killed
// after its log and after its delete, gets the period planned again and accepted in one file.
func TestRecordsMissingParkedRetriedOnceFixed(t *testing.T) {
	e := newNBEnv(t)
	e.start(devstack.Options{PlanGrace: time.Second})
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := e.twoPartitionRecords(start)
	e.publishMarks(start, recs)
	e.publishRecord(recs[0])
	x := e.entryOf(compute, ledger.StateFailed, 60*time.Second)
	if !strings.Contains(x.Reason, "records_missing") || x.PeriodStart != start {
		t.Fatalf("parked %+v", x)
	}
	out, _, err := e.operator("", "parked", "retry", x.Key)
	if err == nil || !strings.Contains(out, "still holds 1 closed records of the period, its marks count 2") {
		t.Fatalf("a retry while records miss: %v\n%s", err, out)
	}
	e.publishRecord(recs[1])
	e.crashThrough([]string{"logged", "deleted"}, "parked", "retry", ledger.ParkedKey(x.ID()), "--note", "records republished")
	done := e.waitEntry(x.Key, ledger.StateAccepted, 60*time.Second)
	if done.Records != 2 {
		t.Errorf("planned again with %d records, want 2", done.Records)
	}
	e.waitBilled(compute, map[billedKey]string{{recs[0].Subscription, "CPU-HOURS"}: "1.5", {recs[1].Subscription, "CPU-HOURS"}: "2"}, 30*time.Second)
	acts, err := e.ledger.Actions(context.Background(), compute, computeContract, start)
	if err != nil || len(acts) == 0 || acts[0].Action != "retry" || acts[0].Actor.Name != "tester" {
		t.Errorf("action log %+v, %v", acts, err)
	}
	var fa lineage.FileAnswer
	e.explain(&fa, "--file", x.Key)
	if !hasAction(fa.Actions, "retry", "tester", "records republished") || fa.File.State != string(ledger.StateAccepted) || len(fa.Records) != 2 {
		t.Errorf("explain of the retried file: %s\nactions %+v", fa.Summary, fa.Actions)
	}
}

// twoPartitionRecords are closed CPU-HOURS records of the period at start, of two sample assets in
// different partitions.
func (e *nbEnv) twoPartitionRecords(start time.Time) []events.PeriodRecord {
	e.t.Helper()
	var recs []events.PeriodRecord
	seen := map[int]bool{}
	for i, a := range []string{"AS-1010-0000-0001", "AS-1010-0000-0002", "AS-1010-0000-0003"} {
		p := events.Partition(a, 2)
		if seen[p] {
			continue
		}
		seen[p] = true
		recs = append(recs, events.PeriodRecord{Kind: events.RecordClosed, Product: compute, Contract: computeContract, Subscription: a,
			Item: "CPU-HOURS", PeriodStart: start, PeriodEnd: start.Add(4 * time.Second), Aggregation: events.AggregationSum,
			Mode: events.ModeTotal, Quantity: events.MustDecimal([]string{"1.5", "2", "2"}[i]), Events: 1, Partition: p})
	}
	if len(recs) != 2 {
		e.t.Skip("the sample assets all fall in one partition")
	}
	return recs
}

// publishMarks publishes, for each of the 2 partitions, the mark of the period at start counting its records.
func (e *nbEnv) publishMarks(start time.Time, recs []events.PeriodRecord) {
	e.t.Helper()
	for p := range 2 {
		n := 0
		for _, r := range recs {
			if r.Partition == p {
				n++
			}
		}
		m := events.PartitionMark{Product: compute, Contract: computeContract, PeriodStart: start, PeriodEnd: start.Add(4 * time.Second),
			Partition: p, Partitions: 2, Records: n}
		e.publishLine(subjects.Marks.Subject(compute, computeContract, start, p), events.KindMark, m)
	}
}

func (e *nbEnv) publishRecord(r events.PeriodRecord) {
	e.publishLine(subjects.Records.Subject(r.Product, r.Contract, r.PeriodStart, r.Partition), events.KindRecords, r)
}

func (e *nbEnv) publishLine(subject, kind string, v any) {
	e.t.Helper()
	data, _ := json.Marshal(v)
	h := bus.Header{}
	h.Set(events.HeaderKind, kind)
	if _, err := e.conn.Publish(context.Background(), bus.Msg{Subject: subject, Header: h, Data: append(data, '\n')}); err != nil {
		e.t.Fatal(err)
	}
}
