package devstack_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/usagepipe/usagepipe/internal/devstack"
)

const (
	otlpProduct = "PRD-276-377-101"
	otlpAsset   = "AS-1010-0000-0002" // fed by OTLP
	twinAsset   = "AS-1010-0000-0003" // fed the same usage as CloudEvents
	otlpPeriod  = 20 * time.Second
)

func computeResource() *resource.Resource {
	return resource.NewSchemaless(attribute.String("service.name", "compute"), attribute.String("subscription", otlpAsset))
}

// A product's usage sent through the OpenTelemetry SDK's OTLP/HTTP exporters (log records, a delta counter,
// and a cumulative counter whose producer restarts; the logs' first request answered 503 after it was
// stored, so the exporter retries it) ends in the same accepted Connect records as the same usage sent as
// CloudEvents for another subscription.
func TestOTLPUsageEndsInTheSameRecordsAsCloudEvents(t *testing.T) {
	o := testOptions(t, t.TempDir())
	c, err := o.Catalogs.WithFixedPeriods(otlpPeriod, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	o.Catalogs = c
	st := start(t, o)
	var where bytes.Buffer
	st.PrintWhere(&where)
	if !strings.Contains(where.String(), st.URLs().Ingest+"/v1/logs and /v1/metrics") {
		t.Errorf("dev does not print the OTLP endpoint:\n%s", where.String())
	}
	waitFor(t, "the first quarter of a period", 2*otlpPeriod, func() bool { return time.Now().UnixNano()%int64(otlpPeriod) < int64(otlpPeriod/4) })
	at := time.Now()
	proxy, calls := failFirst(t, st.URLs().Ingest)
	sendOTLP(t, st.URLs().Ingest, proxy.URL, at)
	sendTwins(t, st, at)
	if time.Now().Truncate(otlpPeriod) != at.Truncate(otlpPeriod) {
		t.Fatalf("sending took from %v to %v, across a period boundary", at, time.Now())
	}
	if calls.Load() != 2 {
		t.Errorf("%d log requests, want the first and the exporter's retry", calls.Load())
	}
	waitFor(t, "both subscriptions' records accepted", 3*otlpPeriod, func() bool {
		return len(acceptedUsage(st, otlpAsset)) == 2 && len(acceptedUsage(st, twinAsset)) == 2
	})
	got, want := acceptedUsage(st, otlpAsset), acceptedUsage(st, twinAsset)
	if !maps.Equal(got, want) || want["API-CALLS"] != "2" || want["CPU-HOURS"] != "4.75" {
		t.Errorf("OTLP records %v, CloudEvents records %v; want both API-CALLS 2 and CPU-HOURS 4.75", got, want)
	}
	if sum := st.Summary(context.Background()); sum.Rejected != 0 || sum.DeadLetters != 0 {
		t.Errorf("refused somewhere: %s", sum)
	}
}

// sendOTLP sends, at about at: two api.call log records (through logsBase, which fails the first request),
// a delta counter's 1.5 CPU hours, and a cumulative counter's 2 then 2.25 in one producer run and 1 in the
// next: 4.75 hours in all.
func sendOTLP(t *testing.T, base, logsBase string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	retry := otlploghttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 20 * time.Second}
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(logsBase+"/v1/logs"), otlploghttp.WithRetry(retry))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(computeResource()), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	for i := range 2 {
		var r otellog.Record
		r.SetEventName("api.call")
		r.SetTimestamp(at.Add(time.Duration(i) * time.Millisecond))
		lp.Logger("compute").Emit(ctx, r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("logs: %v", err)
	}
	delta := meters(t, base, metricdata.DeltaTemporality)
	addHours(t, delta, 1.5)
	first := meters(t, base, metricdata.CumulativeTemporality)
	addHours(t, first, 2)
	addHours(t, first, 0.25)
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	addHours(t, meters(t, base, metricdata.CumulativeTemporality), 1)
}

func meters(t *testing.T, base string, temporality metricdata.Temporality) *sdkmetric.MeterProvider {
	t.Helper()
	exp, err := otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return temporality }))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(computeResource()),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func addHours(t *testing.T, mp *sdkmetric.MeterProvider, h float64) {
	t.Helper()
	c, err := mp.Meter("compute").Float64Counter("compute.cpu_hours")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), h)
	if err := mp.ForceFlush(context.Background()); err != nil {
		t.Fatalf("metrics: %v", err)
	}
}

// sendTwins sends the same usage as CloudEvents for the twin subscription.
func sendTwins(t *testing.T, st *devstack.Stack, at time.Time) {
	t.Helper()
	for i, u := range []devstack.WireUsage{
		{Product: otlpProduct, Item: "API-CALLS", Quantity: "1"}, {Product: otlpProduct, Item: "API-CALLS", Quantity: "1"},
		{Product: otlpProduct, Item: "CPU-HOURS", Quantity: "4.75"},
	} {
		e := devstack.WireEvent{SpecVersion: "1.0", ID: fmt.Sprintf("twin-%d", i), Source: "/twin", Type: "io.usagepipe.usage.v1",
			Subject: twinAsset, Time: at.UTC().Format(time.RFC3339Nano), Data: u}
		post(t, st, e, nil)
	}
}

// acceptedUsage is the usage of the subscription's records in accepted files, by item.
func acceptedUsage(st *devstack.Stack, asset string) map[string]string {
	out := map[string]string{}
	for _, f := range acceptedFiles(st, otlpProduct) {
		for _, r := range st.Emulator().Records(f.ID) {
			if r.AssetID == asset || r.Asset != nil && r.Asset.ID == asset {
				item := r.ItemID
				if r.Item != nil && r.Item.MPN != "" {
					item = r.Item.MPN
				}
				out[item] = string(r.Usage)
			}
		}
	}
	return out
}

// failFirst is a proxy in front of ingest that passes the first request on and answers it 503; later
// requests pass.
func failFirst(t *testing.T, target string) (*httptest.Server, *atomic.Int32) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		http.Error(w, "lost answer: "+rec.Result().Status, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}
