package status_test

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/internal/status"
)

// TestPeriodsPage: a page of one period after the event's says where the next page starts; that page holds,
// newest first, the event's period with its accepted file, its marks (x of P) and records, repeats nothing of
// the first, and stops at the periods that closed before the stream was created (no older page).
func TestPeriodsPage(t *testing.T) {
	w := pipelinetest.Start(t, 2)
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	w.Publish(pipelinetest.Event("pg1", fast, "AS-0500-0000-0001", "UNITS", "2", t0))
	w.WaitAccepted(fast, t0, 0, 60*time.Second)
	prod, _ := w.Catalog.Product(fast)
	pd := prod.PeriodOf(t0)
	rd := status.Reader{Bus: w.Conn, Options: status.Options{Catalog: w.Catalog, Partitions: w.Partitions}}
	first, err := rd.Periods(context.Background(), status.PeriodQuery{Product: fast, Before: pd.End, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Groups) != 1 || first.Groups[0].Product != fast || len(first.Groups[0].Periods) != 1 ||
		!first.Groups[0].Periods[0].PeriodStart.Equal(pd.End) || !first.Groups[0].Older.Equal(pd.Start) {
		t.Fatalf("the first page: %+v", first.Groups)
	}
	next, err := rd.Periods(context.Background(), status.PeriodQuery{Product: fast, Before: first.Groups[0].Older, Count: status.MaxPageCount})
	if err != nil {
		t.Fatal(err)
	}
	g := next.Groups[0]
	p := g.Periods[0]
	if !p.PeriodStart.Equal(pd.Start) || p.State != status.PeriodClosed || p.Marked != 2 || p.Records != 1 || !p.Reported ||
		len(p.Entries) != 1 || p.Entries[0].State != ledger.StateAccepted {
		t.Errorf("the event's period: %+v, entries %+v", p.Period, p.Entries)
	}
	for i := 1; i < len(g.Periods); i++ {
		if !g.Periods[i].PeriodStart.Before(g.Periods[i-1].PeriodStart) {
			t.Errorf("not newest first: %v then %v", g.Periods[i-1].PeriodStart, g.Periods[i].PeriodStart)
		}
	}
	if len(g.Periods) == status.MaxPageCount || !g.Older.IsZero() {
		t.Errorf("the pages go on before the stream existed: %d periods, older %v", len(g.Periods), g.Older)
	}
}
