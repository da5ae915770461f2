package opsapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/usage"
)

// Lineage models internal/lineage.Service: explain an event, a record, a file.
type Lineage interface {
	ExplainEvent(ctx context.Context, q lineage.EventQuery) (*lineage.EventAnswer, error)
	ExplainRecord(ctx context.Context, q lineage.RecordQuery) (*lineage.RecordAnswer, error)
	ExplainFile(ctx context.Context, q lineage.FileQuery) (*lineage.FileAnswer, error)
}

// Usage models internal/usage.Service: a subscription's current usage.
type Usage interface {
	Usage(ctx context.Context, q usage.Query) (*usage.Answer, error)
}

// Status models internal/status.Reader: the whole system's state.
type Status interface {
	Status(ctx context.Context) (*status.Report, error)
}

// readTimeout bounds one read route.
const readTimeout = 60 * time.Second

// registerRead adds the read routes of the services given:
//
//	GET /api/v1/explain/event?source=S&id=I[&subject=AS-…][&time=RFC3339][&early=true]
//	GET /api/v1/explain/record/{id}[?subject=AS-…&time=RFC3339]     a record id or a Connect record id (UR-…)
//	GET /api/v1/explain/file/{id}[?events=true]                      a Connect usage file id (UF-…) or ledger key (file.…)
//	GET /api/v1/usage/{subscription}[?product=P&item=I&periods=N&reported=true]
//	GET /api/v1/status
func (s *Server) registerRead(svc Services) {
	if l := svc.Lineage; l != nil {
		s.Handle("GET "+Prefix+"explain/event", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			q, err := eventQuery(r)
			if err != nil {
				return err
			}
			return answer(w, r, func(ctx context.Context) (any, error) { return l.ExplainEvent(ctx, q) })
		})
		s.Handle("GET "+Prefix+"explain/record/{id}", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			t, err := timeParam(r, "time")
			if err != nil {
				return err
			}
			q := lineage.RecordQuery{ID: r.PathValue("id"), Subject: r.FormValue("subject"), Time: t}
			return answer(w, r, func(ctx context.Context) (any, error) { return l.ExplainRecord(ctx, q) })
		})
		s.Handle("GET "+Prefix+"explain/file/{id}", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			q := lineage.FileQuery{ID: r.PathValue("id"), Events: boolParam(r, "events")}
			return answer(w, r, func(ctx context.Context) (any, error) { return l.ExplainFile(ctx, q) })
		})
	}
	if u := svc.Usage; u != nil {
		s.Handle("GET "+Prefix+"usage/{subscription}", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			n, err := strconv.Atoi(r.FormValue("periods"))
			if r.FormValue("periods") != "" && (err != nil || n < 1) {
				return Errorf(http.StatusBadRequest, ReasonBadRequest, "periods %q: want a number ≥ 1", r.FormValue("periods"))
			}
			q := usage.Query{Subscription: r.PathValue("subscription"), Product: r.FormValue("product"), Item: r.FormValue("item"),
				Periods: n, Reported: boolParam(r, "reported")}
			return answer(w, r, func(ctx context.Context) (any, error) { return u.Usage(ctx, q) })
		})
	}
	if st := svc.Status; st != nil {
		s.Handle("GET "+Prefix+"status", func(w http.ResponseWriter, r *http.Request, _ Operator) error {
			return answer(w, r, func(ctx context.Context) (any, error) { return st.Status(ctx) })
		})
	}
}

// answer runs a read with readTimeout and answers its result as JSON, or its error with a status and reason.
func answer(w http.ResponseWriter, r *http.Request, read func(context.Context) (any, error)) error {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	v, err := read(ctx)
	if err != nil {
		return ReadError(err)
	}
	return Reply(w, http.StatusOK, v)
}

// ReadError maps the service layer's errors to an *Error with their status and reason (the web console
// shows them the same way); an error it does not know is returned as it is (500).
func ReadError(err error) error {
	switch {
	case errors.Is(err, lineage.ErrBadQuery), errors.Is(err, usage.ErrBadQuery):
		return Wrap(http.StatusBadRequest, ReasonBadRequest, err)
	case errors.Is(err, lineage.ErrNotFound):
		return Wrap(http.StatusNotFound, ReasonNotFound, err)
	case errors.Is(err, aggregator.ErrNoOwner):
		return Wrap(http.StatusServiceUnavailable, ReasonNoOwner, err)
	case errors.Is(err, bus.ErrNotConnected), errors.Is(err, bus.ErrStreamNotFound):
		return Wrap(http.StatusServiceUnavailable, ReasonUnavailable, err)
	case errors.Is(err, context.DeadlineExceeded):
		return Wrap(http.StatusGatewayTimeout, ReasonTimeout, err)
	}
	return err
}

func eventQuery(r *http.Request) (lineage.EventQuery, error) {
	t, err := timeParam(r, "time")
	q := lineage.EventQuery{Source: r.FormValue("source"), ID: r.FormValue("id"), Subject: r.FormValue("subject"), Time: t,
		Early: boolParam(r, "early")}
	if err == nil && (q.Source == "" || q.ID == "") {
		err = Errorf(http.StatusBadRequest, ReasonBadRequest, "source and id are required")
	}
	return q, err
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, Errorf(http.StatusBadRequest, ReasonBadRequest, "%s %q: want an RFC 3339 time", name, v)
	}
	return t, nil
}

func boolParam(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.FormValue(name))
	return b
}
