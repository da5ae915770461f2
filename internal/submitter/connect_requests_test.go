package submitter

import (
	"context"
	"errors"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TestConnectRequestsAreCountedByResult: every result is present at zero from the start; a wrong API key's
// answer counts as unauthorized, an unknown file as a client error, against the emulator over real HTTP.
func TestConnectRequestsAreCountedByResult(t *testing.T) {
	env := newTestEnvWith(t, connectemu.Options{Provider: autoAccept, APIKeys: []string{testAPIKey}})
	metrics := sdkmetric.NewManualReader()
	ins, err := newInstruments(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	collect := func() metricdata.ResourceMetrics {
		var rm metricdata.ResourceMetrics
		if err := metrics.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		return rm
	}
	rm := collect()
	for _, r := range connectResults {
		checkSum(t, rm, "usagepipe.submitter.connect.requests", map[string]string{"result": r}, 0)
	}
	for key, want := range map[string]error{testAPIKey: usageapi.ErrNotFound, "SU-000-000-000:wrong": usageapi.ErrUnauthorized} {
		o := env.options()
		o.ConnectAPIKey = key
		c, err := newClient(o.withDefaults(), tracenoop.NewTracerProvider(), ins, o.Logger)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetFile(ctx, "UF-2026-01-0000-0000"); !errors.Is(err, want) {
			t.Fatalf("key %s: GetFile: %v, want %v", key, err, want)
		}
	}
	rm = collect()
	checkSum(t, rm, "usagepipe.submitter.connect.requests", map[string]string{"result": "unauthorized"}, 1)
	checkSum(t, rm, "usagepipe.submitter.connect.requests", map[string]string{"result": "client_error"}, 1)
}
