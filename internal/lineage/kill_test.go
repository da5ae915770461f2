package lineage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestExplainAfterKillAndPartitionMove: an aggregator process is SIGKILLed while events are stored, another
// takes its partitions over, a third joins and partitions move between them while copies of earlier events are
// resent. Every event is then explained as counted exactly once (its later copies duplicates of the counted
// one), in a record of an accepted file, and every record's events are found with a matching digest.
func TestExplainAfterKillAndPartitionMove(t *testing.T) {
	w := pipelinetest.Start(t, 8)
	w.StartSubmitter("s1")
	s := newService(t, w)
	first := w.StartAggregatorChild("k1")
	var sent []events.Event
	batch := func(n int, resend []events.Event) {
		at := time.Now().UTC()
		evs := append([]events.Event{}, resend...)
		for i := range n {
			id := fmt.Sprintf("ev-%d", len(sent)+i)
			evs = append(evs, pipelinetest.Event(id, fast, fmt.Sprintf("AS-%04d-0000-0000", i%6), "UNITS", "1.25", at))
		}
		sent = append(sent, evs[len(resend):]...)
		w.Publish(evs...)
	}
	batch(12, nil)
	waitOwners(t, w, "k1")
	first.Kill()
	w.StartAggregatorChild("k2")
	batch(12, sent[:4])
	w.StartAggregatorChild("k3")
	waitOwners(t, w, "k2", "k3")
	batch(12, sent[10:16])

	records := map[string]bool{}
	for _, e := range sent {
		a := waitAccepted(t, w, s, e)
		if n := countFates(a, lineage.FateCounted); n != 1 || countFates(a, lineage.FatePending) > 0 {
			t.Errorf("%s: %d counted copies (%s), want 1", e.ID, n, fates(a))
		}
		for _, c := range a.Copies[1:] {
			if c.Fate != lineage.FateDuplicate || c.DuplicateOf != a.Copies[0].Seq {
				t.Errorf("%s: later copy %+v, want a duplicate of seq %d", e.ID, c, a.Copies[0].Seq)
			}
		}
		records[a.Counting.Record.RecordID] = true
	}
	for id := range records {
		ra, err := s.ExplainRecord(context.Background(), lineage.RecordQuery{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if ra.Events == nil || !ra.Events.Matches {
			t.Errorf("record %s: %s", id, ra.Summary)
		}
	}
	t.Logf("%d events explained, in %d records", len(sent), len(records))
	otherFates(t, w, s, sent[0])
}

// otherFates checks the other answers with the partitions moved: a dead letter, an event of an open period, a
// late one (an adjustment in a supplementary file of counted's period) and one never sent.
func otherFates(t *testing.T, w *pipelinetest.World, s *lineage.Service, counted events.Event) {
	t.Helper()
	at := time.Now().UTC()
	dead := pipelinetest.Event("ev-k-dead", fast, "AS-0001-0000-0000", "UNITS", "0.001", at)
	open := pipelinetest.Event("ev-k-open", hour, "AS-0002-0000-0000", "UNITS", "3", at)
	late := pipelinetest.Event("ev-k-late", fast, counted.Subject, "UNITS", "0.50", counted.Time)
	w.Publish(dead, open, late)
	if a := waitAccepted(t, w, s, late); a.Counting.State != lineage.CountAdjusted || a.Counting.File.Revision < 1 {
		t.Errorf("late: %s", a.Summary)
	}
	var a *lineage.EventAnswer
	w.WaitFor(30*time.Second, "the dead letter and the open event folded", func() bool {
		a = explain(t, s, dead)
		o := explain(t, s, open)
		return fates(a) == "dead_letter" && o.Counting != nil && o.Counting.State == lineage.CountOpen
	})
	if a.Copies[0].DeadLetter.Reason != events.ReasonBadQuantity {
		t.Errorf("dead: %s", a.Summary)
	}
	if a := explain(t, s, pipelinetest.Event("ev-k-never", fast, counted.Subject, "UNITS", "1", counted.Time)); a.Found {
		t.Errorf("never sent: %s", a.Summary)
	}
}

// waitOwners waits until each member has committed some partition.
func waitOwners(t *testing.T, w *pipelinetest.World, members ...string) {
	t.Helper()
	w.WaitFor(30*time.Second, fmt.Sprintf("commits by each of %v", members), func() bool {
		seen := map[string]bool{}
		for p := range w.Partitions {
			c, ok, err := aggregator.ReadCommitted(context.Background(), w.Conn, p)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				seen[c.Member] = true
			}
		}
		for _, m := range members {
			if !seen[m] {
				return false
			}
		}
		return true
	})
}

// waitAccepted explains e until its counted copy is in an accepted file.
func waitAccepted(t *testing.T, w *pipelinetest.World, s *lineage.Service, e events.Event) *lineage.EventAnswer {
	t.Helper()
	var a *lineage.EventAnswer
	w.WaitFor(60*time.Second, e.ID+" in an accepted file", func() bool {
		var err error
		a, err = s.ExplainEvent(context.Background(), lineage.EventQuery{Source: e.Source, ID: e.ID, Subject: e.Subject, Time: e.Time})
		if err != nil {
			t.Fatal(err)
		}
		c := a.Counting
		return c != nil && c.File != nil && c.File.ConnectStatus == "accepted"
	})
	return a
}

func countFates(a *lineage.EventAnswer, fate string) int {
	n := 0
	for _, c := range a.Copies {
		if c.Fate == fate {
			n++
		}
	}
	return n
}
