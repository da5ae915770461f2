package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// testTimeout bounds each test's waits; it is a safety net, not an assertion.
const testTimeout = 60 * time.Second

const catalogPath = "testdata/catalog.yaml"

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// logOutput discards logs unless INGEST_TEST_LOG is set.
func logOutput() io.Writer {
	if os.Getenv("INGEST_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// stack is an ingest service over real HTTP in front of a real embedded JetStream.
type stack struct {
	nats    *natsembed.Server
	conn    *bus.Conn
	spans   *tracetest.InMemoryExporter
	http    *httptest.Server
	handler http.Handler // the service's, also served by http
}

// startStack starts JetStream, provisions it, and serves an ingest Service built with cfg.
func startStack(t testing.TB, cfg ingest.Config) *stack {
	t.Helper()
	return startStackWith(t, cfg, func(c *bus.Conn) ingest.Bus { return c })
}

// startStackWith is startStack with the service's bus made by wrap from the real connection. A cfg without
// API keys is anonymous (AllowAnonymous).
func startStackWith(t testing.TB, cfg ingest.Config, wrap func(*bus.Conn) ingest.Bus) *stack {
	t.Helper()
	cfg.AllowAnonymous = len(cfg.APIKeys) == 0
	s := &stack{nats: natsembedtest.Start(t), spans: tracetest.NewInMemoryExporter()}
	tel, err := telemetry.Setup(testContext(t), telemetry.Options{Service: "ingest", SpanExporter: s.spans, LogOutput: logOutput()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown() })
	s.conn, err = bus.Connect(testContext(t), bus.Config{URL: s.nats.URL(), Name: t.Name(), Log: slog.New(slog.NewJSONHandler(logOutput(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.conn.Close)
	if err := s.conn.Provision(testContext(t), bus.Topology{Partitions: cfg.Partitions}); err != nil {
		t.Fatal(err)
	}
	svc, err := ingest.New(cfg, wrap(s.conn), loadCatalog(t), tel)
	if err != nil {
		t.Fatal(err)
	}
	s.handler = svc.Handler()
	s.http = httptest.NewServer(s.handler)
	t.Cleanup(s.http.Close)
	return s
}

// created is when USAGE_EVENTS was created: the pipeline's reporting start.
func (s *stack) created(t testing.TB) time.Time {
	t.Helper()
	created, err := s.conn.StreamCreated(testContext(t), bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// clock is a settable Config.Now.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time               { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)              { c.ns.Store(t.UnixNano()) }
func (c *clock) event(d time.Duration) string { return c.now().Add(d).Format(time.RFC3339Nano) }

func loadCatalog(t testing.TB) *events.Catalog {
	t.Helper()
	c, err := events.LoadCatalog(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ev is a valid usage event as producers send it; change fields to make it invalid.
type ev struct {
	SpecVersion string         `json:"specversion"`
	ID          string         `json:"id"`
	Source      string         `json:"source"`
	Type        string         `json:"type"`
	Subject     string         `json:"subject"`
	Time        string         `json:"time"`
	TraceParent string         `json:"traceparent,omitempty"`
	Data        map[string]any `json:"data"`
}

func goodEvent(id, subscription string) ev {
	return goodEventAt(id, subscription, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano))
}

// goodEventAt is goodEvent with the time at.
func goodEventAt(id, subscription, at string) ev {
	return ev{
		SpecVersion: "1.0", ID: id, Source: "test/producer", Type: events.EventType, Subject: subscription, Time: at,
		Data: map[string]any{"product": "PRD-TEST-0001", "item": "UNITS", "quantity": "1.25"},
	}
}

// asset is the Connect asset id of subscription i.
func asset(i int) string { return fmt.Sprintf("AS-%04d-0000-0001", i) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply is an answer of POST /v1/events.
type reply struct {
	code       int
	retryAfter string
	body       events.IngestResponse
	raw        string
}

// post sends body to /v1/events; headers are name, value pairs.
func (s *stack) post(t testing.TB, contentType string, body []byte, headers ...string) reply {
	t.Helper()
	r, err := postTo(testContext(t), s.http.URL, contentType, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func postTo(ctx context.Context, base, contentType string, body []byte, headers ...string) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), raw: string(raw)}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusMultiStatus || resp.StatusCode == http.StatusBadRequest {
		_ = json.Unmarshal(raw, &r.body) // a 400 may carry results or an error
	}
	return r, nil
}

// statuses lists the result statuses in request order.
func (r reply) statuses() []string {
	var out []string
	for _, res := range r.body.Results {
		s := string(res.Status)
		if res.Reason != "" {
			s += ":" + string(res.Reason)
		}
		out = append(out, s)
	}
	return out
}

// storedPacket is one message read back from USAGE_EVENTS.
type storedPacket struct {
	msg    bus.Msg
	events []events.Event
}

// readStored reads the whole USAGE_EVENTS stream back.
func (s *stack) readStored(t testing.TB) []storedPacket {
	t.Helper()
	var out []storedPacket
	err := s.conn.Read(testContext(t), bus.StreamEvents, bus.ReadOptions{}, func(m bus.Msg) error {
		evs, err := events.DecodePacket(m.Data)
		if err != nil {
			return fmt.Errorf("packet %d: %w", m.Seq, err)
		}
		out = append(out, storedPacket{m, evs})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// storedKeys counts every stored event key.
func storedKeys(packets []storedPacket) map[events.Key]int {
	n := map[events.Key]int{}
	for _, p := range packets {
		for _, e := range p.events {
			n[e.Key()]++
		}
	}
	return n
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonBody(v any) ([]byte, error) { return json.Marshal(v) }
