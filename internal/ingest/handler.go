package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// handle serves one route: the request's API (newAPI) says how its body becomes events and how it is
// answered. It records the latency by route and status code.
func (s *Service) handle(route string, newAPI func(*Service, *http.Request) api) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := s.serve(w, r, newAPI(s, r))
		s.metrics.requests.WithLabelValues(strconv.Itoa(code), route).Observe(time.Since(start).Seconds())
	})
}

// api is one way into ingest (CloudEvents on /v1/events, OTLP logs and metrics): the request's media type,
// how its body becomes events, and how results and failures are written. One is made per request.
type api interface {
	// media reports a content type the API does not take (answered 415).
	media() error
	// decode makes the events of body and passes each to add, numbered in request order; its errors are
	// bodyErrors (400, 413). maxBatch bounds the events of a request.
	decode(body []byte, maxBatch int, add addFunc) error
	// results answers the results of a batch.
	results(w http.ResponseWriter, b *batch, c resultCounts) int
	// failure answers a request that produced no results (code 4xx or 5xx), with msg.
	failure(w http.ResponseWriter, code int, msg string) int
}

// addFunc takes the i-th event of a request, decoded as e or rejected with rej.
type addFunc func(i int, e events.Event, rej *events.Rejection)

// serve answers one request and returns the status code it wrote. It reads the body before it takes
// one of the Config.MaxConcurrent slots, so a slow body holds none; each producer (API key) has at most
// Config.MaxRequestsPerKey requests in progress, and the slots are shared fairly among producers (fairSlots).
func (s *Service) serve(w http.ResponseWriter, r *http.Request, a api) int {
	producer, ok := s.keys.identify(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="usagepipe"`)
		return a.failure(w, http.StatusUnauthorized, "missing or unknown API key")
	}
	if !s.inProgress.acquire(producer) {
		return s.tooMany(w, r, a)
	}
	defer s.inProgress.release(producer)
	if !s.bus.Connected() { // fail at once rather than wait out the publish timeout
		return s.unavailable(w, r, a, bus.ErrNotConnected)
	}
	buf, err := s.readRequest(w, r, a)
	if buf != nil {
		defer func() { buf.Reset(); buffers.Put(buf) }()
	}
	if err != nil {
		return s.answerError(w, r, a, err)
	}
	if !s.slots.acquire(producer) {
		return s.overloaded(w, r, a)
	}
	defer s.slots.release(producer)
	b, err := s.decodeRequest(r, a, buf.Bytes(), producer)
	if err != nil {
		return s.answerError(w, r, a, err)
	}
	defer b.release()
	if err := s.store(r.Context(), b); err != nil {
		return s.unavailable(w, r, a, err)
	}
	return a.results(w, b, s.count(b))
}

// readRequest checks the content type and encoding and reads the body into a pooled buffer, which the caller
// returns to buffers (buf is nil only when nothing was read).
func (s *Service) readRequest(w http.ResponseWriter, r *http.Request, a api) (*bytes.Buffer, error) {
	if err := a.media(); err != nil {
		return nil, &bodyError{http.StatusUnsupportedMediaType, err.Error()}
	}
	enc, err := requestEncoding(r.Header)
	if err != nil {
		w.Header().Set("Accept-Encoding", encodingGzip)
		return nil, err
	}
	buf := buffers.Get().(*bytes.Buffer)
	rd := bodyReading{limit: s.cfg.MaxBody, minRate: s.cfg.MinBodyRate, grace: s.cfg.BodyGrace, encoding: enc}
	s.metrics.reading.Inc()
	defer s.metrics.reading.Dec()
	return buf, readBody(w, r, buf, rd)
}

// answerError answers a request that produced no per-event results.
func (s *Service) answerError(w http.ResponseWriter, r *http.Request, a api, err error) int {
	var be *bodyError
	switch {
	case errors.As(err, &be):
		return a.failure(w, be.code, be.msg)
	case errors.Is(err, errStartUnknown):
		return s.unavailable(w, r, a, err)
	}
	return a.failure(w, http.StatusBadRequest, err.Error())
}

// decodeRequest decodes and validates every event of body, sent by producer. It fails with errStartUnknown
// when a valid event could not be checked against the reporting start.
func (s *Service) decodeRequest(r *http.Request, a api, body []byte, producer int) (*batch, error) {
	b := newBatch()
	b.producer = producer
	now := s.cfg.Now()
	start, known := s.reportingStart(r.Context())
	b.tp, b.ts = spanTraceParent(trace.SpanContextFromContext(r.Context()))
	err := a.decode(body, s.cfg.MaxBatch, func(i int, e events.Event, rej *events.Rejection) {
		s.add(b, i, e, rej, now, start)
	})
	if err == nil && !known && len(b.events) > 0 {
		err = errStartUnknown
	}
	if err == nil {
		err = keptBytes(b, body, a, s.cfg.MaxBatch)
	}
	if err != nil {
		b.release()
		return nil, err
	}
	return b, nil
}

// spanTraceParent formats sc as the traceparent and tracestate values of the CloudEvents tracing extension.
// A tracestate whose encoding would not fit traceAllowance is left out.
func spanTraceParent(sc trace.SpanContext) (traceparent, tracestate string) {
	if !sc.IsValid() {
		return "", ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), c)
	traceparent, tracestate = c["traceparent"], c["tracestate"]
	if events.TraceFieldsLen(traceparent, tracestate) > traceAllowance {
		tracestate = ""
	}
	return traceparent, tracestate
}

// statusClientClosed labels, in metrics, requests whose client left before the answer (nginx's 499).
const statusClientClosed = 499

// unavailable answers 503: no event of the request is reported stored.
func (s *Service) unavailable(w http.ResponseWriter, r *http.Request, a api, err error) int {
	span := trace.SpanFromContext(r.Context())
	span.RecordError(err)
	span.SetStatus(codes.Error, "publish failed")
	if r.Context().Err() != nil { // the client went away; nothing to answer
		s.log.InfoContext(r.Context(), "request abandoned by the client before its events were stored", "err", err)
		return statusClientClosed
	}
	s.log.WarnContext(r.Context(), "events not stored: JetStream unavailable", "err", err)
	s.setRetryAfter(w)
	return a.failure(w, http.StatusServiceUnavailable, "event store unavailable; nothing is confirmed stored, retry the same request")
}

// overloaded answers 503 at once: Config.MaxConcurrent requests are being served, or the producer holds
// its share of them.
func (s *Service) overloaded(w http.ResponseWriter, r *http.Request, a api) int {
	s.log.DebugContext(r.Context(), "request refused: too many concurrent requests", "limit", s.cfg.MaxConcurrent)
	s.setRetryAfter(w)
	return a.failure(w, http.StatusServiceUnavailable, "too many concurrent requests; nothing is stored, retry the same request")
}

// tooMany answers 429 at once: the producer has Config.MaxRequestsPerKey requests in progress.
func (s *Service) tooMany(w http.ResponseWriter, r *http.Request, a api) int {
	s.log.DebugContext(r.Context(), "request refused: too many requests in progress for its key", "limit", s.cfg.MaxRequestsPerKey)
	s.setRetryAfter(w)
	return a.failure(w, http.StatusTooManyRequests, fmt.Sprintf("this API key has %d requests in progress, the most allowed; nothing is stored, retry the same request", s.cfg.MaxRequestsPerKey))
}

func (s *Service) setRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.RetryAfter+time.Second-1)/time.Second)))
}

// resultCounts is how many of a batch's results are accepted, duplicate and rejected.
type resultCounts struct{ accepted, duplicates, rejected int }

// count counts b's results and adds them to the events counter.
func (s *Service) count(b *batch) resultCounts {
	var c resultCounts
	t := tally{}
	for i := range b.results {
		switch res := &b.results[i]; res.Status {
		case events.StatusAccepted:
			c.accepted++
		case events.StatusDuplicate:
			c.duplicates++
		default:
			if res.Status == events.StatusRejected {
				c.rejected++
			}
			t.add(string(res.Status), string(res.Reason))
		}
	}
	t.addN(string(events.StatusAccepted), "", c.accepted)
	t.addN(string(events.StatusDuplicate), "", c.duplicates)
	s.metrics.record(t)
	return c
}

// eventsAPI is POST /v1/events: CloudEvents, one or a JSON array, answered with a result per event.
type eventsAPI struct {
	shape shape
	err   error // the content type is not one of MediaCloudEvent, MediaBatch, MediaJSON
}

func newEventsAPI(_ *Service, r *http.Request) api {
	sh, err := requestShape(r.Header.Get("Content-Type"))
	return &eventsAPI{shape: sh, err: err}
}

func (a *eventsAPI) media() error { return a.err }

// decode decodes the events of body; an event carrying data.cumulative, which only OTLP ingest may set, is
// rejected.
func (a *eventsAPI) decode(body []byte, maxBatch int, add addFunc) error {
	return decodeEvents(body, a.shape, maxBatch, func(i int, e events.Event, rej *events.Rejection) {
		if rej == nil && e.Data.Cumulative != nil {
			rej = &events.Rejection{Reason: events.ReasonBadCumulative, Field: "data.cumulative",
				Message: "data.cumulative is set only by OTLP ingest (POST /v1/metrics, cumulative sums)"}
		}
		add(i, e, rej)
	})
}

func (a *eventsAPI) failure(w http.ResponseWriter, code int, msg string) int {
	return writeError(w, code, msg)
}

// results writes the per-event results with 200 (all stored), 207 (mixed) or 400 (all rejected).
func (a *eventsAPI) results(w http.ResponseWriter, b *batch, c resultCounts) int {
	resp := events.IngestResponse{Accepted: c.accepted, Duplicates: c.duplicates, Rejected: c.rejected, Results: b.results}
	code := http.StatusOK
	switch {
	case resp.Rejected > 0 && resp.Rejected == len(b.results):
		code = http.StatusBadRequest
	case resp.Rejected > 0:
		code = http.StatusMultiStatus
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	buf.Write(appendResponse(buf.AvailableBuffer(), &resp))
	return writeBody(w, code, buf.Bytes())
}

// errorBody is the answer to a request that produced no per-event results.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) int {
	return writeJSON(w, code, errorBody{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	if err := json.NewEncoder(buf).Encode(v); err != nil { // cannot happen with this package's types
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	return writeBody(w, code, buf.Bytes())
}

// writeBody answers code with the JSON body.
func writeBody(w http.ResponseWriter, code int, body []byte) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}
