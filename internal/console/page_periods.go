package console

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/status"
)

// periodsData is a page of periods with, for each, its files and how long reporting took.
type periodsData struct {
	Page       *status.PeriodPage
	Rows       map[string][]periodRow // by product + " " + contract
	Query      status.PeriodQuery
	Products   []string
	Partitions int
}

// periodRow is a period and its files as the table shows them.
type periodRow struct {
	status.PeriodFiles
	ToAccepted time.Duration // from its close to its closed-records file accepted (0: not accepted)
	Overdue    bool
}

// periods lists product × period with state, marks, files and Connect statuses (GET /periods), a page of
// status.PeriodQuery per product and contract.
func (c *Console) periods(ctx context.Context, r *http.Request, v *view) (string, error) {
	q, err := periodQuery(r)
	if err != nil {
		return "", err
	}
	page, err := c.svc.Status.Periods(ctx, q)
	if err != nil {
		return "", err
	}
	d := periodsData{Page: page, Rows: map[string][]periodRow{}, Query: q}
	if c.svc.Catalog != nil {
		for _, p := range c.svc.Catalog.Products {
			d.Products = append(d.Products, p.ID)
		}
	}
	for _, g := range page.Groups {
		for _, p := range g.Periods {
			row := periodRow{PeriodFiles: p, ToAccepted: toAccepted(p), Overdue: p.Overdue(page.At, status.DefaultOverdueAfter)}
			d.Rows[g.Product+" "+g.Contract] = append(d.Rows[g.Product+" "+g.Contract], row)
		}
	}
	d.Partitions = c.svc.Partitions
	v.Title, v.Nav, v.Data = "Periods", "Periods", d
	c.live(v)
	return "periods", nil
}

// periodQuery reads ?product=&contract=&before=RFC3339&count=N.
func periodQuery(r *http.Request) (status.PeriodQuery, error) {
	q := status.PeriodQuery{Product: r.FormValue("product"), Contract: r.FormValue("contract")}
	if s := r.FormValue("before"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, badRequest("before %q: want an RFC 3339 time", s)
		}
		q.Before = t
	}
	if s := r.FormValue("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > status.MaxPageCount {
			return q, badRequest("count %q: want 1 to %d", s, status.MaxPageCount)
		}
		q.Count = n
	}
	return q, nil
}

// toAccepted is how long after its close a period's closed-records file (every part) was accepted.
func toAccepted(p status.PeriodFiles) time.Duration {
	var last time.Time
	parts := 0
	for _, e := range p.Entries {
		if e.Revision != 0 {
			continue
		}
		at, ok := acceptedAt(e)
		if !ok {
			return 0
		}
		parts++
		last = maxTime(last, at)
	}
	if parts == 0 {
		return 0
	}
	return max(last.Sub(p.ClosesAt), 0)
}

// acceptedAt is when the entry entered accepted (or closed), from its history.
func acceptedAt(e *ledger.Entry) (time.Time, bool) {
	for _, t := range e.History {
		if t.State == ledger.StateAccepted || t.State == ledger.StateClosed {
			return t.At, true
		}
	}
	return time.Time{}, false
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
