package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// LettersPage is how many dead letters a page lists; PreviewItems how many items a replay preview shows.
const (
	LettersPage  = 50
	PreviewItems = 200
)

// letterQuery is the dead-letter selection of the list, the preview and the replay: the filter's fields as
// the forms carry them.
type letterQuery struct {
	Stage, Reason, Product, Subject, State string
	IDs                                    []string
}

func readLetterQuery(r *http.Request) (letterQuery, deadletter.Filter, error) {
	q := letterQuery{Stage: r.FormValue("stage"), Reason: strings.TrimSpace(r.FormValue("reason")),
		Product: strings.TrimSpace(r.FormValue("product")), Subject: strings.TrimSpace(r.FormValue("subject")),
		State: r.FormValue("state")}
	for _, v := range r.Form["id"] {
		q.IDs = append(q.IDs, strings.Split(v, ",")...)
	}
	f := deadletter.Filter{Stage: q.Stage, Reason: q.Reason, Product: q.Product, Subscription: q.Subject, IDs: q.IDs,
		Open: q.State != "all"}
	for _, id := range q.IDs {
		if _, _, _, err := deadletter.ParseID(id); err != nil {
			return q, f, badRequest("%v", err)
		}
	}
	if q.Stage != "" && !slices.Contains([]string{"ingest", "aggregator", "submitter"}, q.Stage) {
		return q, f, badRequest("stage %q: ingest, aggregator or submitter", q.Stage)
	}
	return q, f, nil
}

// values are the query as URL parameters (the preview's link, the replay form's hidden fields).
func (q letterQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"stage": q.Stage, "reason": q.Reason, "product": q.Product, "subject": q.Subject, "state": q.State} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(q.IDs) > 0 {
		v.Set("id", strings.Join(q.IDs, ","))
	}
	return v
}

// lettersData is a page of dead letters and their counts.
type lettersData struct {
	Q       letterQuery
	Listing *deadletter.Listing
	Letters []deadletter.Letter // this page's
	Page    int
	Pages   int
	Preview string // the replay preview of this selection
}

// deadLetters lists the dead letters a filter selects (GET /deadletters), open ones by default, with their
// counts by stage × reason, a page at a time.
func (c *Console) deadLetters(ctx context.Context, r *http.Request, v *view) (string, error) {
	q, f, err := readLetterQuery(r)
	if err != nil {
		return "", err
	}
	l, err := c.svc.DeadLetters.List(ctx, f)
	if err != nil {
		return "", err
	}
	d := &lettersData{Q: q, Listing: l, Page: 1, Pages: max((len(l.Letters)+LettersPage-1)/LettersPage, 1),
		Preview: "/deadletters/replay?" + q.values().Encode()}
	if p, err := strconv.Atoi(r.FormValue("page")); err == nil && p > 1 {
		d.Page = min(p, d.Pages)
	}
	lo := (d.Page - 1) * LettersPage
	d.Letters = l.Letters[lo:min(lo+LettersPage, len(l.Letters))]
	v.Title, v.Nav, v.Data = "Dead letters", "Dead letters", d
	c.live(v)
	return "deadletters", nil
}

// deadLetter shows one dead letter (GET /deadletters/letter?id=…): what it holds, why, its replay log.
func (c *Console) deadLetter(ctx context.Context, r *http.Request, v *view) (string, error) {
	id := strings.TrimSpace(r.FormValue("id"))
	if _, _, _, err := deadletter.ParseID(id); err != nil {
		return "", badRequest("%v", err)
	}
	l, err := c.svc.DeadLetters.Show(ctx, id)
	if err != nil {
		return "", notFoundOr(err, "no dead letter %s", id)
	}
	v.Title, v.Nav, v.Data = "Dead letter "+id, "Dead letters", l
	return "deadletter", nil
}

// previewData is a replay's dry run, and what confirming it sends.
type previewData struct {
	Q       letterQuery
	Report  *deadletter.Report
	Items   []deadletter.Item // the first PreviewItems
	Counts  map[string]int    // by decision
	Publish int               // items whose replay publishes a copy
	Digest  string            // of the letters previewed: the replay refuses another selection
	Hidden  url.Values        // the selection, for the confirmation form
}

// replayPreview is the dry run of a replay (GET /deadletters/replay?…): what each open letter the selection
// holds would become, and a form to confirm it.
func (c *Console) replayPreview(ctx context.Context, r *http.Request, v *view) (string, error) {
	q, f, err := readLetterQuery(r)
	if err != nil {
		return "", err
	}
	f.Open = true // only open letters are replayed
	rep, err := c.svc.DeadLetters.Replay(ctx, f, deadletter.ReplayOptions{})
	if err != nil {
		return "", err
	}
	d := &previewData{Q: q, Report: rep, Counts: map[string]int{}, Digest: itemsDigest(rep.Items), Hidden: q.values()}
	for _, it := range rep.Items {
		d.Counts[string(it.Decision)]++
		if it.Decision == deadletter.DecisionCount || it.Decision == deadletter.DecisionAdjust || it.Decision == deadletter.DecisionResubmit {
			d.Publish++
		}
	}
	d.Items = rep.Items[:min(len(rep.Items), PreviewItems)]
	v.Title, v.Nav, v.Data = "Replay preview", "Dead letters", d
	return "replay-preview", nil
}

// itemsDigest names the set of letters of a replay.
func itemsDigest(items []deadletter.Item) string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(sum[:12])
}

// replayData is an executed replay.
type replayData struct {
	Report *deadletter.Report
	Counts map[string]int
	Err    string
}

// replay carries out a replay an operator confirmed (POST /deadletters/replay): the same selection as the
// preview, refused when its open letters changed since (the digest differs), executed as the operator, each
// letter at most once ever (internal/deadletter).
func (c *Console) replay(w http.ResponseWriter, r *http.Request, op operator) {
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	v := c.newView(w, r, op)
	q, f, err := readLetterQuery(r)
	if err != nil {
		c.renderError(w, r, v, err)
		return
	}
	f.Open = true
	l, err := c.svc.DeadLetters.List(ctx, f)
	if err != nil {
		c.renderError(w, r, v, err)
		return
	}
	items := make([]deadletter.Item, len(l.Letters))
	for i, x := range l.Letters {
		items[i] = deadletter.Item{ID: x.ID}
	}
	if itemsDigest(items) != r.PostFormValue("digest") {
		c.renderError(w, r, v, opsapi.Errorf(http.StatusConflict, opsapi.ReasonConflict,
			"the open dead letters of this selection changed since the preview: preview the replay again"))
		return
	}
	c.executeReplay(ctx, w, r, v, q, l, op)
}

// executeReplay replays the listed letters as op and shows what was done.
func (c *Console) executeReplay(ctx context.Context, w http.ResponseWriter, r *http.Request, v *view, q letterQuery,
	l *deadletter.Listing, op operator) {
	ids := make([]string, len(l.Letters))
	for i, x := range l.Letters {
		ids[i] = x.ID
	}
	d := &replayData{Counts: map[string]int{}}
	if len(ids) > 0 {
		rep, err := c.svc.DeadLetters.Replay(ctx, deadletter.Filter{IDs: ids, Open: true},
			deadletter.ReplayOptions{Execute: true, Actor: actorOf(op)})
		d.Report = rep
		if err != nil {
			d.Err = err.Error()
			c.log.ErrorContext(ctx, "console: replay stopped", "operator", op.Name, "err", err)
		}
	}
	if d.Report != nil {
		for _, it := range d.Report.Items {
			d.Counts[string(it.Decision)]++
		}
	}
	c.log.InfoContext(ctx, "console: replay", "operator", op.Name, "selection", q.values().Encode(), "letters", len(ids),
		"decisions", fmt.Sprint(d.Counts))
	v.Title, v.Nav, v.Data = "Replay", "Dead letters", d
	c.render(w, r, http.StatusOK, "replay-done", v)
}

// actorOf is who acts through the console.
func actorOf(op operator) ledger.Actor { return ledger.Actor{Name: op.Name, Via: "console"} }
