package status

import (
	"context"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// PeriodQuery selects a page of periods: of one product (and contract) or of every one, the Count periods
// ending at or before Before (zero: the one containing now) and going back.
type PeriodQuery struct {
	Product  string
	Contract string
	Before   time.Time
	Count    int // per product and contract; DefaultPageCount, at most MaxPageCount
}

// Page sizes of PeriodQuery.Count.
const (
	DefaultPageCount = 6
	MaxPageCount     = 50
)

// PeriodFiles is a period with its ledger entries (every revision and part, in key order).
type PeriodFiles struct {
	Period
	Entries []*ledger.Entry `json:"entries"`
}

// PeriodPage is a page of periods: for each product and contract, its periods newest first.
type PeriodPage struct {
	At     time.Time     `json:"at"`
	Groups []PeriodGroup `json:"groups"`
}

// PeriodGroup is the periods of one product and contract on a page, and where its next page starts.
type PeriodGroup struct {
	Product  string        `json:"product"`
	Contract string        `json:"contract"`
	Periods  []PeriodFiles `json:"periods"`
	Older    time.Time     `json:"older,omitzero"` // Before of its next page (zero: no older period reports anything)
}

// Periods reads a page of periods. Its cost is bounded by the page: per period, its marks (one count by
// subject, and each partition's last mark once closed) and its ledger entries (one listing of its prefix).
func (r Reader) Periods(ctx context.Context, q PeriodQuery) (*PeriodPage, error) {
	o := r.Options.withDefaults()
	if err := resolveConfig(ctx, r.Bus, &o); err != nil {
		return nil, err
	}
	q.Count = min(max(q.Count, 0), MaxPageCount)
	if q.Count == 0 {
		q.Count = DefaultPageCount
	}
	if q.Before.IsZero() {
		q.Before = o.Now()
	}
	st, err := r.Bus.StreamState(ctx, bus.StreamEvents)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	l, err := ledger.Open(ctx, r.Bus)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	page := &PeriodPage{At: o.Now().UTC(), Groups: []PeriodGroup{}}
	for i := range o.Catalog.Products {
		prod := &o.Catalog.Products[i]
		if q.Product != "" && prod.ID != q.Product {
			continue
		}
		for _, c := range prod.Contracts {
			if q.Contract != "" && c != q.Contract {
				continue
			}
			g, err := readGroup(ctx, r.Bus, l, o, prod, c, q, st.Created)
			if err != nil {
				return nil, err
			}
			page.Groups = append(page.Groups, g)
		}
	}
	return page, nil
}

// readGroup reads q.Count periods of one product and contract, from the one containing q.Before back (none
// that closed before the stream was created: nothing reports them), and where the next page starts.
func readGroup(ctx context.Context, b Bus, l *ledger.Store, o Options, prod *events.Product, contract string,
	q PeriodQuery, created time.Time) (PeriodGroup, error) {
	g := PeriodGroup{Product: prod.ID, Contract: contract, Periods: []PeriodFiles{}}
	pd := prod.PeriodOf(q.Before)
	for range q.Count {
		if !prod.CloseAt(pd).After(created) {
			return g, nil
		}
		es, err := l.Entries(ctx, ledger.PeriodPrefix(prod.ID, contract, pd.Start))
		if err != nil {
			return g, fmt.Errorf("status: ledger: %w", err)
		}
		var r Report
		if err := r.addPeriod(ctx, b, o, prod, contract, pd, es); err != nil {
			return g, err
		}
		g.Periods = append(g.Periods, PeriodFiles{Period: r.Periods[0], Entries: es})
		pd = prod.PeriodOf(pd.Start.Add(-time.Nanosecond))
	}
	if prod.CloseAt(pd).After(created) {
		g.Older = pd.Start // the period containing it is the next page's first
	}
	return g, nil
}

// Due reports whether the period has ended and is not reported yet, nor abandoned on purpose by an operator.
func (p *Period) Due() bool { return p.State != PeriodOpen && !p.Reported && !p.Abandoned }

// Overdue reports whether the period is still not reported after longer than after past its close.
func (p *Period) Overdue(now time.Time, after time.Duration) bool {
	return p.Due() && now.After(p.ClosesAt.Add(after))
}
