package console

import (
	"context"
	"net/http"
	"slices"

	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// overviewData is the overview: the status report and what the page sums up of it.
type overviewData struct {
	R           *status.Report
	Alive       map[string]int // live services by kind
	Ingest      svcstatus.Ingest
	Owned       int     // partitions with a live owner
	MaxLag      float64 // the largest partition lag, in seconds
	Due         []status.Period
	Overdue     int
	Parked      int
	DeadLetters uint64 // stored
	OpenDead    uint64 // stored and open (never replayed, refused, interrupted): not counted or not billed
	OpenRecent  uint64 // open and within the status dead-letter window (a problem)
	BaseParked  int    // supplements in Connect whose base is parked
}

// overview is the system at a glance (GET /): problems, services, throughput, lag, periods due, parked
// files and dead letters, from the shared status report.
func (c *Console) overview(ctx context.Context, _ *http.Request, v *view) (string, error) {
	r, err := c.report.get(ctx)
	if err != nil {
		return "", err
	}
	d := overviewData{R: r, Alive: map[string]int{}, Parked: len(r.Parked), BaseParked: len(r.BaseParked)}
	for _, s := range r.Services {
		d.Alive[s.Kind]++
	}
	for _, hb := range r.Ingest {
		d.Ingest.Accepted, d.Ingest.Duplicates, d.Ingest.Rejected = d.Ingest.Accepted+hb.Ingest.Accepted,
			d.Ingest.Duplicates+hb.Ingest.Duplicates, d.Ingest.Rejected+hb.Ingest.Rejected
		d.Ingest.AcceptedPS += hb.Ingest.AcceptedPS
		d.Ingest.DuplicatePS += hb.Ingest.DuplicatePS
		d.Ingest.RejectedPS += hb.Ingest.RejectedPS
	}
	for _, p := range r.Owners {
		if p.Live {
			d.Owned++
		}
		d.MaxLag = max(d.MaxLag, p.LagSeconds)
	}
	for _, p := range r.Periods {
		if p.Due() {
			d.Due = append(d.Due, p)
		}
		if p.Overdue(r.At, status.DefaultOverdueAfter) {
			d.Overdue++
		}
	}
	slices.SortStableFunc(d.Due, func(a, b status.Period) int { return a.ClosesAt.Compare(b.ClosesAt) })
	for _, dl := range r.DeadLetters {
		d.DeadLetters += dl.Total
		d.OpenDead += dl.Open
		d.OpenRecent += dl.OpenRecent
	}
	v.Title, v.Nav, v.Data = "Overview", "Overview", d
	c.live(v)
	return "overview", nil
}
