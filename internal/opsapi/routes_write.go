package opsapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/parked"
)

// DeadLetters models internal/deadletter.Service: list, show and replay dead letters.
type DeadLetters interface {
	List(ctx context.Context, f deadletter.Filter) (*deadletter.Listing, error)
	Show(ctx context.Context, id string) (*deadletter.Letter, error)
	Replay(ctx context.Context, f deadletter.Filter, o deadletter.ReplayOptions) (*deadletter.Report, error)
}

// Parked models internal/parked.Service: parked files and the operators' actions on them.
type Parked interface {
	List(ctx context.Context, f parked.ListFilter) (parked.Views, error)
	Show(ctx context.Context, key string) (*parked.View, error)
	Retry(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
	Resubmit(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
	Abandon(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
}

var (
	_ DeadLetters = (*deadletter.Service)(nil)
	_ Parked      = (*parked.Service)(nil)
)

// writeTimeout bounds one write route (a replay of many dead letters reads and writes much).
const writeTimeout = 10 * time.Minute

// registerWrite adds the write side's routes of the services given; the actions (POST) are recorded with
// the operator the request's key names:
//
//	GET  /api/v1/deadletters[?stage=&reason=&product=&subject=&period=&since=&until=&id=a,b&open=true]
//	GET  /api/v1/deadletters/{id}
//	POST /api/v1/deadletters/replay   {"stage", "reason", "product", "subject", "period", "since", "until", "ids", "execute"}
//	GET  /api/v1/parked[?all=true&product=&reason=]
//	GET  /api/v1/parked/{key}          a file key, a parked key or a Connect file id
//	POST /api/v1/parked/{key}/retry|resubmit|abandon   {"note"}
func (s *Server) registerWrite(svc Services) {
	if d := svc.DeadLetters; d != nil {
		s.Handle("GET "+Prefix+"deadletters", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			f, err := letterFilter(filterBody{Stage: r.FormValue("stage"), Reason: r.FormValue("reason"),
				Product: r.FormValue("product"), Subject: r.FormValue("subject"), Period: r.FormValue("period"),
				Since: r.FormValue("since"), Until: r.FormValue("until"), IDs: splitList(r.FormValue("id"))})
			if err != nil {
				return err
			}
			f.Open = boolParam(r, "open")
			return act(w, r, func(ctx context.Context) (any, error) { return d.List(ctx, f) })
		})
		s.Handle("GET "+Prefix+"deadletters/{id}", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			return act(w, r, func(ctx context.Context) (any, error) { return d.Show(ctx, r.PathValue("id")) })
		})
		s.Handle("POST "+Prefix+"deadletters/replay", func(w http.ResponseWriter, r *http.Request, op Operator) error {
			var body filterBody
			if err := decodeBody(r, &body); err != nil {
				return err
			}
			f, err := letterFilter(body)
			if err != nil {
				return err
			}
			o := deadletter.ReplayOptions{Execute: body.Execute, Actor: actorOf(op)}
			return act(w, r, func(ctx context.Context) (any, error) { return d.Replay(ctx, f, o) })
		})
	}
	if p := svc.Parked; p != nil {
		s.registerParked(p)
	}
}

// registerParked adds the parked files' routes.
func (s *Server) registerParked(p Parked) {
	s.Handle("GET "+Prefix+"parked", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
		f := parked.ListFilter{All: boolParam(r, "all"), Product: r.FormValue("product"), Reason: r.FormValue("reason")}
		return act(w, r, func(ctx context.Context) (any, error) { return p.List(ctx, f) })
	})
	s.Handle("GET "+Prefix+"parked/{key}", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
		return act(w, r, func(ctx context.Context) (any, error) { return p.Show(ctx, r.PathValue("key")) })
	})
	actions := map[string]func(context.Context, string, ledger.Actor, string) (*parked.Result, error){
		parked.ActionRetry: p.Retry, parked.ActionResubmit: p.Resubmit, parked.ActionAbandon: p.Abandon}
	for name, do := range actions {
		s.Handle("POST "+Prefix+"parked/{key}/"+name, func(w http.ResponseWriter, r *http.Request, op Operator) error {
			var body struct {
				Note string `json:"note"`
			}
			if err := decodeBody(r, &body); err != nil {
				return err
			}
			return act(w, r, func(ctx context.Context) (any, error) { return do(ctx, r.PathValue("key"), actorOf(op), body.Note) })
		})
	}
}

// actorOf is who acts: the operator the key names, and the way in.
func actorOf(op Operator) ledger.Actor { return ledger.Actor{Name: op.Name, Via: op.Via} }

// filterBody is a dead-letter selection as a request carries it (times: RFC 3339).
type filterBody struct {
	Stage   string   `json:"stage"`
	Reason  string   `json:"reason"`
	Product string   `json:"product"`
	Subject string   `json:"subject"`
	Period  string   `json:"period"`
	Since   string   `json:"since"`
	Until   string   `json:"until"`
	IDs     []string `json:"ids"`
	Execute bool     `json:"execute"`
}

// letterFilter reads a selection.
func letterFilter(b filterBody) (deadletter.Filter, error) {
	f := deadletter.Filter{Stage: b.Stage, Reason: b.Reason, Product: b.Product, Subscription: b.Subject, IDs: b.IDs}
	for _, id := range b.IDs {
		if _, _, _, err := deadletter.ParseID(id); err != nil {
			return f, Wrap(http.StatusBadRequest, ReasonBadRequest, err)
		}
	}
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"period", b.Period, &f.Period}, {"since", b.Since, &f.Since}, {"until", b.Until, &f.Until}} {
		if t.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			return f, Errorf(http.StatusBadRequest, ReasonBadRequest, "%s %q: want an RFC 3339 time", t.name, t.v)
		}
		*t.dst = v
	}
	return f, nil
}

// maxBody bounds a write route's JSON body.
const maxBody = 64 << 10

// decodeBody reads the JSON body into v (an empty body leaves v as it is).
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		return Wrap(http.StatusBadRequest, ReasonBadRequest, err)
	case len(b) > maxBody:
		return Errorf(http.StatusRequestEntityTooLarge, ReasonBadRequest, "the body is over %d bytes", maxBody)
	case len(strings.TrimSpace(string(b))) == 0:
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return Errorf(http.StatusBadRequest, ReasonBadRequest, "the body is not the JSON expected: %v", err)
	}
	return nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// act runs a write-side call with writeTimeout and answers its result, or its error with a status and reason.
func act(w http.ResponseWriter, r *http.Request, call func(context.Context) (any, error)) error {
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	v, err := call(ctx)
	if err != nil {
		return WriteError(err)
	}
	return Reply(w, http.StatusOK, v)
}

// WriteError maps the write side's errors to an *Error (the web console shows them the same way): a refusal is
// 409 conflict (the action does not apply now, and says why), a letter or entry that is not there 404, and the
// read side's errors as ReadError maps them.
func WriteError(err error) error {
	switch {
	case errors.Is(err, parked.ErrRefused):
		return Wrap(http.StatusConflict, ReasonConflict, err)
	case errors.Is(err, bus.ErrNotFound):
		return Wrap(http.StatusNotFound, ReasonNotFound, err)
	}
	return ReadError(err)
}
