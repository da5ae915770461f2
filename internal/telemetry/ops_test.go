package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/usagepipe/usagepipe/internal/telemetry"
)

// TestServeOpsAnswersProbesAndMetrics serves the ops endpoints on a real listener: a failing probe gives 503
// with its error, a passing one 200, and /metrics the registry.
func TestServeOpsAnswersProbesAndMetrics(t *testing.T) {
	tel := setup(t, telemetry.Options{SpanExporter: tracetest.NewInMemoryExporter(), LogOutput: io.Discard})
	notReady := errors.New("stream USAGE_EVENTS missing")
	addr, stop, err := tel.ServeOps("127.0.0.1:0", telemetry.OpsProbes{
		Healthy: func(context.Context) error { return nil },
		Ready:   func(context.Context) error { return notReady },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, tc := range []struct {
		path     string
		status   int
		contains string
	}{
		{"/healthz", http.StatusOK, "ok"},
		{"/readyz", http.StatusServiceUnavailable, "not ready: stream USAGE_EVENTS missing"},
		{"/metrics", http.StatusOK, "go_goroutines"},
	} {
		status, body := get(t, "http://"+addr+tc.path)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tc.path, status, body, tc.status, tc.contains)
		}
	}
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestServeOpsRefusesABusyAddress reports the listen error instead of serving nothing.
func TestServeOpsRefusesABusyAddress(t *testing.T) {
	tel := setup(t, telemetry.Options{SpanExporter: tracetest.NewInMemoryExporter(), LogOutput: io.Discard})
	addr, stop, err := tel.ServeOps("127.0.0.1:0", telemetry.OpsProbes{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, _, err := tel.ServeOps(addr, telemetry.OpsProbes{}); err == nil || !strings.Contains(err.Error(), "ops listen") {
		t.Errorf("want a listen error, have %v", err)
	}
}
