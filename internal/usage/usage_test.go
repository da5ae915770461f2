package usage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/internal/usage"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

const fast, sub = pipelinetest.FastProduct, "AS-0100-0000-0001"

func query(t *testing.T, s *usage.Service, q usage.Query) *usage.Answer {
	t.Helper()
	a, err := s.Usage(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func line(lines []usage.Line, item string) *usage.Line {
	for i := range lines {
		if lines[i].Item == item {
			return &lines[i]
		}
	}
	return nil
}

// TestUsageIsWhatIsReported: the current usage of an open period equals the closed record reported to
// Connect when no late event comes, and a late event moves it by exactly its quantity, which the supplement
// then reports. Ticks are published by the test, so the period stays open until it has read the value.
func TestUsageIsWhatIsReported(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	o := w.AggregatorOptions("a1")
	o.NoTicks = true
	w.StartAggregatorWith(o)
	w.StartSubmitter("s1")
	s, err := usage.New(context.Background(), w.Conn, w.Partitions)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	w.Publish(pipelinetest.Event("u1", fast, sub, "UNITS", "1.25", t0), pipelinetest.Event("u2", fast, sub, "UNITS", "2.50", t0),
		pipelinetest.Event("p1", fast, sub, "PEAK", "3", t0), pipelinetest.Event("p2", fast, sub, "PEAK", "7", t0),
		pipelinetest.Event("x1", fast, "AS-0100-0000-0002", "UNITS", "9", t0))
	var open *usage.Answer
	w.WaitFor(20*time.Second, "both events of each item applied", func() bool {
		a, err := s.Usage(context.Background(), usage.Query{Subscription: sub})
		if errors.Is(err, aggregator.ErrNoOwner) { // the aggregator has not taken the partition yet
			return false
		} else if err != nil {
			t.Fatal(err)
		}
		open = a
		u, p := line(open.Open, "UNITS"), line(open.Open, "PEAK")
		return u != nil && p != nil && u.Events == 2 && p.Events == 2
	})
	units, peak := line(open.Open, "UNITS").Value, line(open.Open, "PEAK").Value
	if units.Cmp(events.MustDecimal("3.75")) != 0 || peak.Cmp(events.MustDecimal("7")) != 0 || len(open.Closed) != 0 {
		t.Fatalf("open usage %+v", open)
	}
	closesAt := line(open.Open, "UNITS").ClosesAt
	w.WaitFor(10*time.Second, "the period's close", func() bool { return time.Now().After(closesAt) })
	w.TickAll()
	base := w.WaitAccepted(fast, t0, 0, 60*time.Second)
	checkConnect(t, w, base.FileID, map[string]events.Decimal{"UNITS": units, "PEAK": peak})
	a := query(t, s, usage.Query{Subscription: sub, Reported: true})
	if u := line(a.Closed, "UNITS"); u == nil || u.Value.Cmp(units) != 0 || u.Reported.Value.Cmp(units) != 0 || u.Revisions != 0 ||
		len(u.Files) != 1 || u.Files[0].ConnectStatus != "accepted" {
		t.Fatalf("closed usage without late events: %+v", a.Closed)
	}

	late := events.MustDecimal("0.40")
	w.Publish(pipelinetest.Event("u3", fast, sub, "UNITS", late.String(), t0))
	suppl := w.WaitAccepted(fast, t0, 1, 60*time.Second)
	checkConnect(t, w, suppl.FileID, map[string]events.Decimal{"UNITS": late})
	a = query(t, s, usage.Query{Subscription: sub, Reported: true})
	u, p := line(a.Closed, "UNITS"), line(a.Closed, "PEAK")
	want := units.Add(late)
	if u == nil || u.Value.Cmp(want) != 0 || u.Reported.Value.Cmp(want) != 0 || !u.Reported.Pending.IsZero() || u.Revisions != 1 {
		t.Errorf("after the late event: UNITS %+v, want value and reported %s", u, want)
	}
	if p == nil || p.Value.Cmp(peak) != 0 || p.Reported.Value.Cmp(peak) != 0 {
		t.Errorf("after the late event: PEAK %+v, want %s", p, peak)
	}
}

// checkConnect compares the Connect records of the subscription in a file with want, by item MPN.
func checkConnect(t *testing.T, w *pipelinetest.World, fileID string, want map[string]events.Decimal) {
	t.Helper()
	recs, err := w.Connect.Records(usageapi.Eq("usagefile.id", fileID), usageapi.Eq("asset.id", sub)).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("file %s: %d records of %s, want %d", fileID, len(recs), sub, len(want))
	}
	for _, r := range recs {
		got, err := events.ParseDecimal(r.Usage.String())
		if err != nil || got.Cmp(want[r.Item.MPN]) != 0 {
			t.Errorf("file %s: %s reported %s, want %s (%v)", fileID, r.Item.MPN, r.Usage, want[r.Item.MPN], err)
		}
	}
}
