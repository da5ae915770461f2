package status

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// readPeriods describes, for each product and contract of the catalog, the period containing now and the
// PeriodsBack before it, and every other period with a file not finished yet (so an old stuck period shows).
// Periods that closed before the pipeline started reporting (the creation of USAGE_EVENTS, from which every
// partition marks the periods it closes) are left out: nothing reports them.
func (r *Report) readPeriods(ctx context.Context, b Bus, o Options, entries []*ledger.Entry) error {
	now := o.Now()
	st, err := b.StreamState(ctx, bus.StreamEvents)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	byPeriod := map[periodID][]*ledger.Entry{}
	for _, e := range entries {
		id := periodID{e.Product, e.Contract, e.PeriodStart.UnixNano()}
		byPeriod[id] = append(byPeriod[id], e)
	}
	shown := map[periodID]bool{}
	r.Periods = []Period{}
	for i := range o.Catalog.Products {
		prod := &o.Catalog.Products[i]
		for _, c := range prod.Contracts {
			pd := prod.PeriodOf(now)
			for range o.PeriodsBack + 1 {
				if !prod.CloseAt(pd).After(st.Created) {
					break
				}
				id := periodID{prod.ID, c, pd.Start.UnixNano()}
				if err := r.addPeriod(ctx, b, o, prod, c, pd, byPeriod[id]); err != nil {
					return err
				}
				shown[id] = true
				pd = prod.PeriodOf(pd.Start.Add(-time.Nanosecond))
			}
		}
	}
	for id, es := range byPeriod {
		prod, ok := o.Catalog.Product(id.product)
		if shown[id] || !ok || !unfinished(es) {
			continue
		}
		if err := r.addPeriod(ctx, b, o, prod, id.contract, prod.PeriodOf(time.Unix(0, id.start)), es); err != nil {
			return err
		}
	}
	return nil
}

type periodID struct {
	product, contract string
	start             int64
}

func unfinished(es []*ledger.Entry) bool {
	for _, e := range es {
		if !e.State.Terminal() || e.State.Parked() {
			return true
		}
	}
	return false
}

// addPeriod reads one period's marks and sums up its files.
func (r *Report) addPeriod(ctx context.Context, b Bus, o Options, prod *events.Product, contract string, pd events.Period, es []*ledger.Entry) error {
	p := Period{Product: prod.ID, Contract: contract, PeriodStart: pd.Start, PeriodEnd: pd.End, ClosesAt: prod.CloseAt(pd),
		State: PeriodOpen, Files: map[string]int{}, Connect: map[string]int{}}
	marks, err := b.SubjectCounts(ctx, bus.StreamAgg, subjects.Marks.Period(prod.ID, contract, pd.Start))
	if err != nil {
		return fmt.Errorf("status: marks: %w", err)
	}
	p.Marked = len(marks)
	switch {
	case p.Marked >= o.Partitions:
		p.State = PeriodClosed
	case !o.Now().Before(pd.End):
		p.State = PeriodClosing
	}
	revisions := map[int]bool{}
	base, abandoned := 0, 0
	for _, e := range es {
		p.Files[string(e.State)]++
		if e.Status != "" {
			p.Connect[e.Status]++
		}
		revisions[e.Revision] = true
		switch {
		case e.Revision == 0 && e.State.Billed():
			base++
		case e.Revision == 0 && e.State == ledger.StateAbandoned:
			abandoned++
		}
	}
	delete(revisions, 0)
	p.Supplements = len(revisions)
	if p.State == PeriodClosed {
		if p.Records, err = markedRecords(ctx, b, prod.ID, contract, pd.Start, o.Partitions); err != nil {
			return err
		}
		p.Reported = p.Records == 0 || len(es) > 0 && base == baseParts(es)
		p.Abandoned = !p.Reported && abandoned > 0 && base+abandoned == baseParts(es)
	}
	r.Periods = append(r.Periods, p)
	return nil
}

// baseParts is the number of parts of the closed-records file (0 if not planned).
func baseParts(es []*ledger.Entry) int {
	for _, e := range es {
		if e.Revision == 0 {
			return e.Parts
		}
	}
	return -1
}

// markedRecords sums the records counted by each partition's last mark of the period.
func markedRecords(ctx context.Context, b Bus, product, contract string, start time.Time, partitions int) (int, error) {
	n := 0
	for p := range partitions {
		m, err := b.LastMsg(ctx, bus.StreamAgg, subjects.Marks.Subject(product, contract, start, p))
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("status: mark: %w", err)
		}
		n += recordsOfMark(m.Data, product, contract, start)
	}
	return n, nil
}
