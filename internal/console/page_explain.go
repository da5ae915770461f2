package console

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/lineage"
)

// explainForm is the search: an event (source and id, with its subject and time to bound the search), a
// record (its 40-hex id or a Connect record id UR-…) or a Connect file (UF-…).
type explainForm struct {
	Q, Source, Subject, Time string
}

// explainData is the answer to one search: a timeline for an event, or a record or a file.
type explainData struct {
	Form     explainForm
	Kind     string // "", "event", "record" or "file"
	Event    *lineage.EventAnswer
	Timeline []step
	Record   *lineage.RecordAnswer
	File     *lineage.FileAnswer
	Product  string // for the time zone
}

var recordIDPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// explain answers a search (GET /explain?q=…[&source=…&subject=…&time=…]): an event as the timeline
// ingested → stored → counted → closed → file → accepted, a record with its file and events, or a file with
// its records.
func (c *Console) explain(ctx context.Context, r *http.Request, v *view) (string, error) {
	f := explainForm{Q: strings.TrimSpace(r.FormValue("q")), Source: strings.TrimSpace(r.FormValue("source")),
		Subject: strings.TrimSpace(r.FormValue("subject")), Time: strings.TrimSpace(r.FormValue("time"))}
	d := &explainData{Form: f}
	v.Title, v.Nav, v.Data = "Explain", "Explain", d
	t, err := parseTime(f.Time)
	if err != nil {
		return "", err
	}
	switch {
	case f.Q == "":
		return "explain", nil
	case strings.HasPrefix(f.Q, "UF-"):
		d.Kind, v.Title = "file", "Explain file "+f.Q
		d.File, err = c.svc.Lineage.ExplainFile(ctx, lineage.FileQuery{ID: f.Q})
	case strings.HasPrefix(f.Q, "UR-") || recordIDPattern.MatchString(f.Q):
		d.Kind, v.Title = "record", "Explain record "+short(f.Q)
		d.Record, err = c.svc.Lineage.ExplainRecord(ctx, lineage.RecordQuery{ID: f.Q, Subject: f.Subject, Time: t})
	case f.Source == "":
		return "", badRequest("an event is named by its source and its id: give the source too (or search a record id, UR-… or UF-…)")
	default:
		d.Kind, v.Title = "event", "Explain event "+f.Q
		err = c.explainEvent(ctx, d, lineage.EventQuery{Source: f.Source, ID: f.Q, Subject: f.Subject, Time: t}, v)
	}
	return "explain", err
}

// explainEvent answers an event and builds its timeline; the page stays live until the event is billed.
func (c *Console) explainEvent(ctx context.Context, d *explainData, q lineage.EventQuery, v *view) error {
	a, err := c.svc.Lineage.ExplainEvent(ctx, q)
	if err != nil {
		return err
	}
	d.Event, d.Timeline = a, timeline(a)
	d.Product = eventProduct(a)
	if last := d.Timeline[len(d.Timeline)-1]; a.Found && last.State != stepDone {
		c.live(v)
		v.Refresh = max(v.Refresh, 10) // an explain reads a window of the stream: not more often
	}
	return nil
}

// parseTime reads an optional RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, badRequest("time %q: want an RFC 3339 time, e.g. 2026-12-05T12:00:00Z", s)
	}
	return t, nil
}

// eventProduct is the product of an answer's event (its counting, else its first copy).
func eventProduct(a *lineage.EventAnswer) string {
	if a.Counting != nil {
		return a.Counting.Product
	}
	if len(a.Copies) > 0 {
		return a.Copies[0].Event.Data.Product
	}
	return ""
}
