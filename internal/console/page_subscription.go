package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/usage"
)

// subscriptionData is a subscription's usage, with the ledger key of each closed period's files.
type subscriptionData struct {
	Q      usage.Query
	A      *usage.Answer
	Closed []closedLine
}

// closedLine is a closed period's line and the ledger keys of its files (in the order of Line.Files).
type closedLine struct {
	usage.Line
	Keys []string
}

// subscription shows a subscription's current usage (GET /subscription?id=AS-…): per item the value so far in
// each open period, from the partition's owner, and the last closed periods with their files and what the
// accepted ones reported.
func (c *Console) subscription(ctx context.Context, r *http.Request, v *view) (string, error) {
	q := usage.Query{Subscription: strings.TrimSpace(r.FormValue("id")), Product: r.FormValue("product"),
		Item: r.FormValue("item"), Reported: true}
	v.Title, v.Nav = "Subscription", "Subscription"
	d := &subscriptionData{Q: q}
	v.Data = d
	if q.Subscription == "" {
		return "subscription", nil
	}
	v.Title = "Subscription " + q.Subscription
	a, err := c.svc.Usage.Usage(ctx, q)
	if err != nil {
		return "", err
	}
	d.A = a
	for _, l := range a.Closed {
		cl := closedLine{Line: l}
		for _, f := range l.Files {
			cl.Keys = append(cl.Keys, ledger.FileID{Product: l.Product, Contract: l.Contract, PeriodStart: l.PeriodStart,
				Revision: f.Revision, Part: f.Part}.Key())
		}
		d.Closed = append(d.Closed, cl)
	}
	c.live(v)
	return "subscription", nil
}
