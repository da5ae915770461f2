package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/parked"
)

// parkedData is the parked entries a filter selects, and their counts by reason.
type parkedData struct {
	Filter  parked.ListFilter
	Views   parked.Views
	Reasons map[string]int
}

// parkedList lists the parked files (GET /parked[?reason=&product=&all=true]): what parked each and what can
// be done.
func (c *Console) parkedList(ctx context.Context, r *http.Request, v *view) (string, error) {
	f := parked.ListFilter{All: r.FormValue("all") == "true", Product: strings.TrimSpace(r.FormValue("product")),
		Reason: strings.TrimSpace(r.FormValue("reason"))}
	views, err := c.svc.Parked.List(ctx, f)
	if err != nil {
		return "", err
	}
	d := &parkedData{Filter: f, Views: views, Reasons: map[string]int{}}
	for _, x := range views {
		d.Reasons[x.Reason]++
	}
	v.Title, v.Nav, v.Data = "Parked", "Parked", d
	c.live(v)
	return "parked", nil
}

// parkedEntryData is one parked entry, its period's action log, and the result of an action just taken.
type parkedEntryData struct {
	V       *parked.View // nil when the entry is gone (a retry deleted it to have it planned again)
	Key     string
	Action  string // the action just asked for, and its note (kept in its form when it was refused)
	Note    string
	Result  *parked.Result
	Refusal string
}

// parkedEntry shows one parked entry (GET /parked/entry?key=…: a file key, a parked key or UF-…) with the
// actions it allows, each with a note.
func (c *Console) parkedEntry(ctx context.Context, r *http.Request, v *view) (string, error) {
	key := strings.TrimSpace(r.FormValue("key"))
	if key == "" {
		return "", badRequest("name a parked entry: ?key=file.…, parked.… or UF-…")
	}
	x, err := c.svc.Parked.Show(ctx, key)
	if err != nil {
		return "", notFoundOr(err, "no ledger entry %s", key)
	}
	v.Title, v.Nav, v.Data = "Parked "+fileTitle(x.Entry), "Parked", &parkedEntryData{V: x, Key: key}
	return "parked-entry", nil
}

// callParked calls the action name of the parked service.
func (c *Console) callParked(ctx context.Context, name, key string, actor ledger.Actor, note string) (*parked.Result, error) {
	switch name {
	case parked.ActionRetry:
		return c.svc.Parked.Retry(ctx, key, actor, note)
	case parked.ActionResubmit:
		return c.svc.Parked.Resubmit(ctx, key, actor, note)
	}
	return c.svc.Parked.Abandon(ctx, key, actor, note)
}

// parkedDo carries out a parked file action as op and shows the entry after it, or why it was refused.
func (c *Console) parkedDo(name string) actionFunc {
	return func(w http.ResponseWriter, r *http.Request, op operator) {
		ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
		defer cancel()
		v := c.newView(w, r, op)
		key, note := strings.TrimSpace(r.PostFormValue("key")), strings.TrimSpace(r.PostFormValue("note"))
		if name == parked.ActionAbandon && note == "" {
			c.renderError(w, r, v, badRequest("say why the file is abandoned: the note is recorded with it"))
			return
		}
		d := &parkedEntryData{Key: key, Action: name, Note: note}
		res, err := c.callParked(ctx, name, key, actorOf(op), note)
		status := http.StatusOK
		switch {
		case errors.Is(err, parked.ErrRefused):
			d.Refusal, status = err.Error(), http.StatusConflict
		case err != nil:
			c.renderError(w, r, v, notFoundOr(err, "no ledger entry %s", key))
			return
		}
		d.Result = res
		c.log.InfoContext(ctx, "console: parked action", "action", name, "key", key, "operator", op.Name, "refused", d.Refusal != "")
		// After a retry the entry may be gone, planned again by a submitter's next scan.
		if d.V, err = c.svc.Parked.Show(ctx, key); err != nil && !errors.Is(err, bus.ErrNotFound) {
			c.renderError(w, r, v, err)
			return
		}
		v.Title, v.Nav, v.Data = "Parked "+key, "Parked", d
		if d.V != nil {
			v.Title = "Parked " + fileTitle(d.V.Entry)
		}
		c.render(w, r, status, "parked-entry", v)
	}
}
