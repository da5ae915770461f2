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
	"github.com/usagepipe/usagepipe/pkg/events"
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
// and a cumulative counter whose producer restarts; the first request of the logs, of the delta counter and
// of the cumulative counter's first run answered 503 after it was stored, so each exporter retries it) ends
// in the same accepted Connect records as the same usage sent as CloudEvents for another subscription.
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
	proxies := map[string]*atomic.Int32{}
	through := func(what string) string {
		proxy, calls := failFirst(t, st.URLs().Ingest)
		proxies[what] = calls
		return proxy.URL
	}
	sendOTLP(t, st.URLs().Ingest, otlpBases{logs: through("logs"), delta: through("delta"), cumulative: through("cumulative")}, at)
	sendTwins(t, st, at)
	if time.Now().Truncate(otlpPeriod) != at.Truncate(otlpPeriod) {
		t.Fatalf("sending took from %v to %v, across a period boundary", at, time.Now())
	}
	// the first request and its retry; the cumulative run exports twice more (2.25, and again at its shutdown)
	for what, want := range map[string]int32{"logs": 2, "delta": 2, "cumulative": 4} {
		if n := proxies[what].Load(); n != want {
			t.Errorf("%d %s requests through the failing proxy, want %d", n, what, want)
		}
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

// otlpBases are the ingest URLs (or proxies in front of it) each exporter of sendOTLP sends to.
type otlpBases struct{ logs, delta, cumulative string }

// sendOTLP sends, at about at: two api.call log records (to bases.logs), a delta counter's 1.5 CPU hours (to
// bases.delta), and a cumulative counter's 2 then 2.25 in one producer run (to bases.cumulative) and 1 in the
// next (to base): 4.75 hours in all.
func sendOTLP(t *testing.T, base string, bases otlpBases, at time.Time) {
	t.Helper()
	ctx := context.Background()
	retry := otlploghttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 20 * time.Second}
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(bases.logs+"/v1/logs"), otlploghttp.WithRetry(retry))
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
	delta := meters(t, bases.delta, metricdata.DeltaTemporality)
	addHours(t, delta, 1.5)
	first := meters(t, bases.cumulative, metricdata.CumulativeTemporality)
	addHours(t, first, 2)
	addHours(t, first, 0.25)
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	addHours(t, meters(t, base, metricdata.CumulativeTemporality), 1)
}

func meters(t *testing.T, base string, temporality metricdata.Temporality) *sdkmetric.MeterProvider {
	t.Helper()
	retry := otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 20 * time.Second}
	exp, err := otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"), otlpmetrichttp.WithRetry(retry),
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
	for i, u := range []events.Usage{
		{Product: otlpProduct, Item: "API-CALLS", Quantity: events.MustDecimal("1")},
		{Product: otlpProduct, Item: "API-CALLS", Quantity: events.MustDecimal("1")},
		{Product: otlpProduct, Item: "CPU-HOURS", Quantity: events.MustDecimal("4.75")},
	} {
		e := events.Event{SpecVersion: events.SpecVersion, ID: fmt.Sprintf("twin-%d", i), Source: "/twin", Type: events.EventType,
			Subject: twinAsset, Time: at.UTC(), Data: u}
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
