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

// handleEvents serves POST /v1/events and records its latency by status code.
func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := s.serveEvents(w, r)
	s.metrics.requests.WithLabelValues(strconv.Itoa(code)).Observe(time.Since(start).Seconds())
}

// serveEvents answers one request and returns the status code it wrote. It reads the body before it takes
// one of the Config.MaxConcurrent slots, so a slow body holds none; each producer (API key) has at most
// Config.MaxRequestsPerKey requests in progress, and the slots are shared fairly among producers (fairSlots).
func (s *Service) serveEvents(w http.ResponseWriter, r *http.Request) int {
	producer, ok := s.keys.identify(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="usagepipe"`)
		return writeError(w, http.StatusUnauthorized, "missing or unknown API key")
	}
	if !s.inProgress.acquire(producer) {
		return s.tooMany(w, r)
	}
	defer s.inProgress.release(producer)
	if !s.bus.Connected() { // fail at once rather than wait out the publish timeout
		return s.unavailable(w, r, bus.ErrNotConnected)
	}
	buf, sh, err := s.readRequest(w, r)
	if buf != nil {
		defer func() { buf.Reset(); buffers.Put(buf) }()
	}
	if err != nil {
		return s.answerError(w, r, err)
	}
	if !s.slots.acquire(producer) {
		return s.overloaded(w, r)
	}
	defer s.slots.release(producer)
	b, err := s.decodeRequest(r, buf.Bytes(), sh, producer)
	if err != nil {
		return s.answerError(w, r, err)
	}
	defer b.release()
	if err := s.store(r.Context(), b); err != nil {
		return s.unavailable(w, r, err)
	}
	return s.respond(w, b)
}

// readRequest checks the content type and encoding and reads the body into a pooled buffer, which the caller
// returns to buffers (buf is nil only when nothing was read).
func (s *Service) readRequest(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, shape, error) {
	sh, err := requestShape(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, 0, &bodyError{http.StatusUnsupportedMediaType, err.Error()}
	}
	enc, err := requestEncoding(r.Header)
	if err != nil {
		w.Header().Set("Accept-Encoding", encodingGzip)
		return nil, 0, err
	}
	buf := buffers.Get().(*bytes.Buffer)
	rd := bodyReading{limit: s.cfg.MaxBody, minRate: s.cfg.MinBodyRate, grace: s.cfg.BodyGrace, encoding: enc}
	s.metrics.reading.Inc()
	defer s.metrics.reading.Dec()
	return buf, sh, readBody(w, r, buf, rd)
}

// answerError answers a request that produced no per-event results.
func (s *Service) answerError(w http.ResponseWriter, r *http.Request, err error) int {
	var be *bodyError
	switch {
	case errors.As(err, &be):
		return writeError(w, be.code, be.msg)
	case errors.Is(err, errStartUnknown):
		return s.unavailable(w, r, err)
	}
	return writeError(w, http.StatusBadRequest, err.Error())
}

// decodeRequest decodes and validates every event of body, sent by producer. It fails with errStartUnknown
// when a valid event could not be checked against the reporting start.
func (s *Service) decodeRequest(r *http.Request, body []byte, sh shape, producer int) (*batch, error) {
	b := newBatch()
	b.producer = producer
	now := s.cfg.Now()
	start, known := s.reportingStart(r.Context())
	b.tp, b.ts = spanTraceParent(trace.SpanContextFromContext(r.Context()))
	err := decodeEvents(body, sh, s.cfg.MaxBatch, func(i int, e events.Event, rej *events.Rejection) {
		s.add(b, i, e, rej, now, start)
	})
	if err == nil && !known && len(b.events) > 0 {
		err = errStartUnknown
	}
	if err == nil {
		err = keptBytes(b, body, sh, s.cfg.MaxBatch)
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
func (s *Service) unavailable(w http.ResponseWriter, r *http.Request, err error) int {
	span := trace.SpanFromContext(r.Context())
	span.RecordError(err)
	span.SetStatus(codes.Error, "publish failed")
	if r.Context().Err() != nil { // the client went away; nothing to answer
		s.log.InfoContext(r.Context(), "request abandoned by the client before its events were stored", "err", err)
		return statusClientClosed
	}
	s.log.WarnContext(r.Context(), "events not stored: JetStream unavailable", "err", err)
	s.setRetryAfter(w)
	return writeError(w, http.StatusServiceUnavailable, "event store unavailable; nothing is confirmed stored, retry the same request")
}

// overloaded answers 503 at once: Config.MaxConcurrent requests are being served, or the producer holds
// its share of them.
func (s *Service) overloaded(w http.ResponseWriter, r *http.Request) int {
	s.log.DebugContext(r.Context(), "request refused: too many concurrent requests", "limit", s.cfg.MaxConcurrent)
	s.setRetryAfter(w)
	return writeError(w, http.StatusServiceUnavailable, "too many concurrent requests; nothing is stored, retry the same request")
}

// tooMany answers 429 at once: the producer has Config.MaxRequestsPerKey requests in progress.
func (s *Service) tooMany(w http.ResponseWriter, r *http.Request) int {
	s.log.DebugContext(r.Context(), "request refused: too many requests in progress for its key", "limit", s.cfg.MaxRequestsPerKey)
	s.setRetryAfter(w)
	return writeError(w, http.StatusTooManyRequests, fmt.Sprintf("this API key has %d requests in progress, the most allowed; nothing is stored, retry the same request", s.cfg.MaxRequestsPerKey))
}

func (s *Service) setRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.RetryAfter+time.Second-1)/time.Second)))
}

// respond writes the per-event results with 200 (all stored), 207 (mixed) or 400 (all rejected).
func (s *Service) respond(w http.ResponseWriter, b *batch) int {
	resp := events.IngestResponse{Results: b.results}
	t := tally{}
	for i := range b.results {
		switch res := &b.results[i]; res.Status {
		case events.StatusAccepted:
			resp.Accepted++
		case events.StatusDuplicate:
			resp.Duplicates++
		default:
			if res.Status == events.StatusRejected {
				resp.Rejected++
			}
			t.add(string(res.Status), string(res.Reason))
		}
	}
	t.addN(string(events.StatusAccepted), "", resp.Accepted)
	t.addN(string(events.StatusDuplicate), "", resp.Duplicates)
	s.metrics.record(t)
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
