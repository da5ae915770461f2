package lineage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestMain(m *testing.M) { pipelinetest.Main(m) }

const fast, hour = pipelinetest.FastProduct, pipelinetest.HourProduct

func newService(t *testing.T, w *pipelinetest.World) *lineage.Service {
	t.Helper()
	s, err := lineage.New(context.Background(), w.Conn, lineage.Options{Connect: w.Connect, Catalog: w.Catalog,
		Partitions: w.Partitions})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func explain(t *testing.T, s *lineage.Service, e events.Event) *lineage.EventAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := s.ExplainEvent(ctx, lineage.EventQuery{Source: e.Source, ID: e.ID, Subject: e.Subject, Time: e.Time})
	if err != nil {
		t.Fatalf("explain %s: %v", e.ID, err)
	}
	t.Logf("%s: %s", e.ID, a.Summary)
	return a
}

// fates lists the fates of an answer's copies.
func fates(a *lineage.EventAnswer) string {
	var f []string
	for _, c := range a.Copies {
		f = append(f, c.Fate)
	}
	return strings.Join(f, ",")
}

// TestExplainEveryFate: an event counted in a closed record, one sent twice, one dead-lettered, one late (an
// adjustment in a supplementary file), one in an open period and one never sent each get the right answer,
// down to the Connect file and record; the reverse lookups find the events of a record (by record id and by
// Connect record id) with a matching digest, and a file's records.
func TestExplainEveryFate(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	s := newService(t, w)
	t0 := time.Now().UTC()
	counted := pipelinetest.Event("ev-counted", fast, "AS-0001-0001-0001", "UNITS", "1.50", t0)
	dup := pipelinetest.Event("ev-dup", fast, "AS-0002-0002-0002", "UNITS", "2.00", t0)
	dead := pipelinetest.Event("ev-dead", fast, "AS-0003-0003-0003", "UNITS", "1.234", t0) // beyond decimal(2)
	open := pipelinetest.Event("ev-open", hour, "AS-0004-0004-0004", "UNITS", "5", t0)
	w.Publish(counted, dup, dead, open)
	w.Publish(dup) // stored again, as after JetStream's duplicate window
	w.WaitAccepted(fast, t0, 0, 60*time.Second)
	late := pipelinetest.Event("ev-late", fast, "AS-0001-0001-0001", "UNITS", "0.25", t0)
	w.Publish(late)
	w.WaitAccepted(fast, t0, 1, 60*time.Second)

	a := explain(t, s, counted)
	c := a.Counting
	if fates(a) != "counted" || c == nil || c.State != lineage.CountClosed || c.Record == nil ||
		c.Record.Record.Quantity.Cmp(events.MustDecimal("1.50")) != 0 || c.Late {
		t.Fatalf("counted: %+v", a)
	}
	f := c.File
	if f == nil || f.Revision != 0 || f.State != "accepted" || !strings.HasPrefix(f.FileID, "UF-") ||
		f.ConnectStatus != "accepted" || !strings.HasPrefix(f.ConnectRecord, "UR-") || f.RecordStatus == "" {
		t.Fatalf("counted: file %+v", f)
	}

	a = explain(t, s, dup)
	if fates(a) != "counted,duplicate" || a.Copies[1].DuplicateOf != a.Copies[0].Seq || a.Counting.State != lineage.CountClosed {
		t.Errorf("dup: %s, %+v", fates(a), a.Copies)
	}

	a = explain(t, s, dead)
	if fates(a) != "dead_letter" || a.Copies[0].DeadLetter.Reason != events.ReasonBadQuantity || a.Counting != nil ||
		a.Copies[0].DeadLetter.State != "open" {
		t.Errorf("dead: %s %+v", fates(a), a.Copies)
	} else {
		checkLetterID(t, w, a.Copies[0].DeadLetter.ID, dead)
	}

	a = explain(t, s, open)
	if fates(a) != "counted" || a.Counting.State != lineage.CountOpen || a.Counting.Usage == nil ||
		a.Counting.Usage.Quantity.Cmp(events.MustDecimal("5")) != 0 || !strings.Contains(a.Counting.Note, "closes at") {
		t.Errorf("open: %+v", a.Counting)
	}

	a = explain(t, s, late)
	c = a.Counting
	if fates(a) != "counted" || c.State != lineage.CountAdjusted || !c.Late || c.Record.Record.Revision != 1 ||
		c.File == nil || c.File.Revision != 1 || c.File.ConnectStatus != "accepted" || c.File.ConnectRecord == "" {
		t.Errorf("late: %+v, file %+v", c, c.File)
	}

	never := pipelinetest.Event("ev-never", fast, "AS-0001-0001-0001", "UNITS", "1", t0)
	a = explain(t, s, never)
	// Not found: both parts of its window read, the early one (the future skew before the event's time) and
	// the rest of the stream, in its partition; and ingest's kept rejections, whole.
	if a.Found || len(a.Searched) != 3 || !strings.Contains(a.Summary, "not found") || len(a.Kept) != 0 ||
		a.Searched[2].Filter != "usage.dlq.ingest.>" || !a.Searched[2].Complete {
		t.Fatalf("never sent: %+v", a)
	}
	early, likely := a.Searched[0], a.Searched[1]
	p := events.Partition(never.Subject, w.Partitions)
	if !early.Complete || !likely.Complete || early.Partition != p || likely.Partition != p || likely.Messages == 0 ||
		!early.FromTime.Equal(t0.Add(-events.FutureSkew-lineage.ClockMargin)) || !early.ToTime.Equal(likely.FromTime) {
		t.Errorf("never sent: searched %+v", a.Searched)
	}
	checkReverse(t, s, explain(t, s, counted), explain(t, s, late))
}

// checkLetterID wants the dead letter id explain gives to be the one usagepipe dlq show reads e from.
func checkLetterID(t *testing.T, w *pipelinetest.World, id string, e events.Event) {
	t.Helper()
	letters, err := deadletter.New(w.Conn, w.Ledger, w.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	l, err := letters.Show(context.Background(), id)
	if err != nil || l.Event == nil || l.Event.Key() != e.Key() {
		t.Errorf("dead letter %s: %+v, %v", id, l, err)
	}
}

// checkReverse explains the records of a counted event and of a late one, by record id and by Connect record
// id, and the counted one's file.
func checkReverse(t *testing.T, s *lineage.Service, counted, late *lineage.EventAnswer) {
	t.Helper()
	ctx := context.Background()
	for _, a := range []*lineage.EventAnswer{counted, late} {
		rec := a.Counting.Record
		for _, id := range []string{rec.RecordID, a.Counting.File.ConnectRecord} {
			ra, err := s.ExplainRecord(ctx, lineage.RecordQuery{ID: id})
			if err != nil {
				t.Fatalf("explain record %s: %v", id, err)
			}
			t.Logf("record %s: %s", id, ra.Summary)
			ev := ra.Events
			if ra.Record.RecordID != rec.RecordID || ev == nil || !ev.Matches || ev.Count != 1 || ev.Digest != rec.Record.Digest ||
				ev.Events[0].ID != a.Query.ID || ra.File == nil || ra.File.FileID != a.Counting.File.FileID {
				t.Errorf("record %s: %+v, events %+v", id, ra, ev)
			}
		}
	}
	fa, err := s.ExplainFile(ctx, lineage.FileQuery{ID: counted.Counting.File.FileID, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("file: %s", fa.Summary)
	var found bool
	for _, r := range fa.Records {
		found = found || r.Record.RecordID == counted.Counting.Record.RecordID && r.Events != nil && r.Events.Matches
	}
	if !found || fa.Events < 2 || fa.File.ConnectStatus != "accepted" || len(fa.History) == 0 ||
		fa.History[len(fa.History)-1].State != "accepted" {
		t.Errorf("file %+v", fa)
	}
	byKey, err := s.ExplainFile(ctx, lineage.FileQuery{ID: fa.File.LedgerKey})
	if err != nil || byKey.File.FileID != fa.File.FileID || len(byKey.Records) != len(fa.Records) {
		t.Errorf("file by its ledger key %s: %+v, %v", fa.File.LedgerKey, byKey, err)
	}
}

// TestExplainEarlyCopy: a copy stored before the event's time (its producer's clock ahead of ingest's) is found
// when the early part of the window is asked for: it is the one counted, a later copy its duplicate; by
// default the answer says that part was not searched.
func TestExplainEarlyCopy(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	w.StartAggregator("a1")
	s := newService(t, w)
	at := time.Now().UTC().Add(8 * time.Second) // the event's time, 8 s ahead: stored at once, it is early
	e := pipelinetest.Event("ev-early", hour, "AS-0006-0006-0006", "UNITS", "1", at)
	w.Publish(e)
	w.WaitFor(20*time.Second, "the event's time − the clock margin to pass", func() bool {
		return time.Now().After(at.Add(-lineage.ClockMargin))
	})
	w.Publish(e)
	var a *lineage.EventAnswer
	q := lineage.EventQuery{Source: e.Source, ID: e.ID, Subject: e.Subject, Time: at, Early: true}
	w.WaitFor(20*time.Second, "both copies folded", func() bool {
		var err error
		if a, err = s.ExplainEvent(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		return countFates(a, lineage.FatePending) == 0 && len(a.Copies) == 2
	})
	if fates(a) != "counted,duplicate" || a.Copies[0].Arrival.After(at.Add(-lineage.ClockMargin)) || len(a.Notes) != 0 {
		t.Errorf("with the early window: %s, %+v, notes %v", fates(a), a.Copies, a.Notes)
	}
	a = explain(t, s, e)
	if len(a.Copies) != 1 || len(a.Notes) != 1 || !strings.Contains(a.Searched[1].Note, "not searched") {
		t.Errorf("default: %+v, searched %+v, notes %v", a.Copies, a.Searched, a.Notes)
	}
}
