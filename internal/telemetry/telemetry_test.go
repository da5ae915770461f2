package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/usagepipe/usagepipe/internal/buildinfo"
	"github.com/usagepipe/usagepipe/internal/telemetry"
)

func setup(t *testing.T, opts telemetry.Options) *telemetry.Telemetry {
	t.Helper()
	if opts.Service == "" {
		opts.Service = "test"
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	tel, err := telemetry.Setup(context.Background(), opts)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() { _ = tel.Shutdown() })
	return tel
}

func TestLoggerAddsTraceAndSpanIDs(t *testing.T) {
	var out bytes.Buffer
	tel := setup(t, telemetry.Options{Service: "ingest", LogOutput: &out, SpanExporter: tracetest.NewInMemoryExporter()})
	ctx, span := tel.Tracer("test").Start(context.Background(), "op")
	tel.Logger.InfoContext(ctx, "inside")
	span.End()
	tel.Logger.InfoContext(context.Background(), "outside")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines, have %d: %q", len(lines), out.String())
	}
	inside, outside := decodeLine(t, lines[0]), decodeLine(t, lines[1])
	sc := span.SpanContext()
	if want, have := sc.TraceID().String(), inside["trace_id"]; want != have {
		t.Errorf("trace_id: want %v, have %v", want, have)
	}
	if want, have := sc.SpanID().String(), inside["span_id"]; want != have {
		t.Errorf("span_id: want %v, have %v", want, have)
	}
	if want, have := "ingest", inside["service"]; want != have {
		t.Errorf("service: want %v, have %v", want, have)
	}
	if _, ok := outside["trace_id"]; ok {
		t.Errorf("a record without a span has a trace_id: %v", outside)
	}
}

func decodeLine(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("log line is not JSON: %q: %v", line, err)
	}
	return m
}

func TestSpanExporterReceivesEndedSpansWithServiceName(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{Service: "aggregator", SpanExporter: exp, LogOutput: io.Discard})
	_, span := tel.Tracer("test").Start(context.Background(), "work")
	span.End()
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "work" {
		t.Fatalf("want one span named work, have %v", spans)
	}
	var service, version string
	for _, kv := range spans[0].Resource.Attributes() {
		switch kv.Key {
		case "service.name":
			service = kv.Value.AsString()
		case "service.version":
			version = kv.Value.AsString()
		}
	}
	if want, have := "aggregator", service; want != have {
		t.Errorf("service.name: want %v, have %v", want, have)
	}
	if want := buildinfo.Read().ServiceVersion(); version != want || version == "" {
		t.Errorf("service.version: want %q (the build), have %q", want, version)
	}
}

func TestOTLPHTTPExporterSendsToConfiguredEndpoint(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Service: "submitter", Getenv: func(k string) string { return env[k] }, LogOutput: io.Discard,
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	_, span := tel.Tracer("test").Start(context.Background(), "exported")
	span.End()
	if err := tel.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "POST /v1/traces" {
		t.Errorf("want POST /v1/traces at the collector, have %v", paths)
	}
}

func TestSetupRejectsUnknownProtocol(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}
	_, err := telemetry.Setup(context.Background(), telemetry.Options{
		Service: "x", Getenv: func(k string) string { return env[k] }, LogOutput: io.Discard,
	})
	if err == nil {
		t.Fatal("want an error for protocol thrift")
	}
}

func TestSetupInstallsW3CPropagators(t *testing.T) {
	tel := setup(t, telemetry.Options{SpanExporter: tracetest.NewInMemoryExporter(), LogOutput: io.Discard})
	ctx, span := tel.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	member, _ := baggage.NewMember("tenant", "t1")
	bag, _ := baggage.New(member)
	ctx = baggage.ContextWithBaggage(ctx, bag)

	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if !strings.Contains(carrier["traceparent"], span.SpanContext().TraceID().String()) {
		t.Errorf("traceparent %q lacks the trace id", carrier["traceparent"])
	}
	if want, have := "tenant=t1", carrier["baggage"]; want != have {
		t.Errorf("baggage: want %v, have %v", want, have)
	}
}

func TestMetricsHandlerServesPrometheusAndOTelInstruments(t *testing.T) {
	tel := setup(t, telemetry.Options{SpanExporter: tracetest.NewInMemoryExporter(), LogOutput: io.Discard})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_prom_things_total", Help: "things"})
	tel.Registry.MustRegister(c)
	c.Add(3)
	oc, err := tel.MeterProvider().Meter("test").Int64Counter("test.otel.things")
	if err != nil {
		t.Fatal(err)
	}
	oc.Add(context.Background(), 2)

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	b := buildinfo.Read()
	buildInfo := `usagepipe_build_info{build_time="` + b.Time + `",goversion="` + b.GoVersion + `",modified="false",revision="` +
		b.Revision + `",service="test",version="` + b.Version + `"} 1`
	for _, want := range []string{"test_prom_things_total 3", "test_otel_things_total", "go_goroutines", buildInfo} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
