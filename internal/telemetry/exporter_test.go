package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/usagepipe/usagepipe/internal/telemetry"
)

// exportOne sets up telemetry with env, ends one span named "exported" and shuts down (which flushes).
func exportOne(t *testing.T, service string, env map[string]string) error {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Service: service, Getenv: func(k string) string { return env[k] }, LogOutput: io.Discard,
	})
	if err != nil {
		return err
	}
	_, span := tel.Tracer("test").Start(context.Background(), "exported")
	span.End()
	if err := tel.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	return nil
}

func TestOTLPGRPCExporterSendsTheResourceFromGetenv(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := startGRPCReceiver(t, ln)
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_SERVICE_NAME": "submitter-eu", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=staging%20eu, team=billing",
	}
	if err := exportOne(t, "submitter", env); err != nil {
		t.Fatal(err)
	}
	spans, resources := rec.received()
	if !slices.Equal(spans, []string{"exported"}) || len(resources) != 1 {
		t.Fatalf("received spans %v, resources %v", spans, resources)
	}
	r := resources[0]
	if r["service.name"] != "submitter-eu" || r["deployment.environment.name"] != "staging eu" || r["team"] != "billing" {
		t.Errorf("resource %v: want OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES read through Getenv", r)
	}
}

func TestOTELTracesExporter(t *testing.T) {
	rec := &httpReceiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
	for _, c := range []struct{ value, want string }{{"none", ""}, {"otlp", "POST /v1/traces"}, {"", "POST /v1/traces"}} {
		before := len(rec.requests())
		env["OTEL_TRACES_EXPORTER"] = c.value
		if err := exportOne(t, "ingest", env); err != nil {
			t.Fatalf("OTEL_TRACES_EXPORTER=%q: %v", c.value, err)
		}
		if have := rec.requests()[before:]; (c.want == "") != (len(have) == 0) || (c.want != "" && have[0] != c.want) {
			t.Errorf("OTEL_TRACES_EXPORTER=%q: requests %v, want %q", c.value, have, c.want)
		}
	}
	for _, bad := range []string{"zipkin", "otlp,console"} {
		env["OTEL_TRACES_EXPORTER"] = bad
		if err := exportOne(t, "ingest", env); !errors.Is(err, telemetry.ErrTracesExporter) {
			t.Errorf("OTEL_TRACES_EXPORTER=%q: want ErrTracesExporter, have %v", bad, err)
		}
	}
}

// TestNothingIsExportedWithoutAnEndpoint listens where the OTLP exporters send by default (localhost:4317
// gRPC, localhost:4318 HTTP): without an endpoint variable, no span reaches either.
func TestNothingIsExportedWithoutAnEndpoint(t *testing.T) {
	grpcLn, err := net.Listen("tcp", "127.0.0.1:4317")
	if err != nil {
		t.Skipf("the default OTLP gRPC port is taken: %v", err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		grpcLn.Close()
		t.Skipf("the default OTLP HTTP port is taken: %v", err)
	}
	// The exporters read this one from the process environment: a default exporter would then reach the
	// plaintext receivers below.
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	grpcRec, httpRec := startGRPCReceiver(t, grpcLn), &httpReceiver{}
	srv := &http.Server{Handler: httpRec}
	go func() { _ = srv.Serve(httpLn) }()
	t.Cleanup(func() { _ = srv.Close() })
	for _, protocol := range []string{"grpc", "http/protobuf", ""} {
		env := map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_TRACES_EXPORTER": "otlp"}
		if err := exportOne(t, "aggregator", env); err != nil {
			t.Fatal(err)
		}
	}
	if spans, _ := grpcRec.received(); len(spans) > 0 || len(httpRec.requests()) > 0 {
		t.Errorf("exported without an endpoint: gRPC spans %v, HTTP requests %v", spans, httpRec.requests())
	}
}
