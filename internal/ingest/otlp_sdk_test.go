package ingest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
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

	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// otlpKey is the API key of the OTLP tests, bound to the sources of service shop/billing.
const otlpKey = "otlp-test-key"

func otlpConfig() ingest.Config {
	return ingest.Config{APIKeys: []ingest.APIKey{
		{Key: otlpKey, Sources: []string{"otlp://shop/billing/"}},
		{Key: "other-key", Sources: []string{"/meters/"}},
	}}
}

// billingResource is the resource of the producer: service shop/billing, billing subscription i.
func billingResource(i int) *resource.Resource {
	return resource.NewSchemaless(attribute.String("service.name", "billing"), attribute.String("service.namespace", "shop"),
		attribute.String("customer.asset", asset(i)))
}

var fastRetry = struct {
	logs    otlploghttp.RetryConfig
	metrics otlpmetrichttp.RetryConfig
}{
	otlploghttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 20 * time.Second},
	otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 20 * time.Second},
}

// logProvider is a LoggerProvider exporting with the SDK's otlploghttp exporter to base (gzip, fast retries),
// in one batch at each ForceFlush.
func logProvider(t *testing.T, base string, res *resource.Resource) *sdklog.LoggerProvider {
	t.Helper()
	exp, err := otlploghttp.New(testContext(t), otlploghttp.WithEndpointURL(base+"/v1/logs"),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + otlpKey}),
		otlploghttp.WithCompression(otlploghttp.GzipCompression), otlploghttp.WithRetry(fastRetry.logs))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithExportInterval(time.Hour))))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp
}

// usageRecord is a log record the catalog's logs rule maps: event_name usage, units attribute.
func usageRecord(at time.Time, units attribute.Value) otellog.Record {
	var r otellog.Record
	r.SetEventName("usage")
	r.SetTimestamp(at)
	r.AddAttributes(attribute.KeyValue{Key: "units", Value: units})
	return r
}

// Usage sent as log records by the OpenTelemetry SDK's OTLP/HTTP exporter is stored as events of its
// service's source, with exact quantities (an int, a decimal string, a double that is exactly a decimal),
// each record's trace context kept; records no rule maps, or whose double is not exactly a decimal, are
// rejected and the exporter is told so (a partial success), and nothing of them is stored.
func TestOTLPLogsFromTheSDKExporter(t *testing.T) {
	s := startStack(t, otlpConfig())
	lp := logProvider(t, s.http.URL, billingResource(1))
	logger := lp.Logger("billing")
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	tenth, fifth := 0.1, 0.2 // variables: constants would add exactly
	logger.Emit(testContext(t), usageRecord(at, attribute.Int64Value(3)))
	logger.Emit(testContext(t), usageRecord(at.Add(time.Millisecond), attribute.StringValue("2.25")))
	logger.Emit(testContext(t), usageRecord(at.Add(2*time.Millisecond), attribute.Float64Value(1.5)))
	logger.Emit(testContext(t), usageRecord(at.Add(3*time.Millisecond), attribute.Float64Value(tenth+fifth)))
	other := usageRecord(at, attribute.Int64Value(1))
	other.SetEventName("page_view")
	logger.Emit(testContext(t), other)
	err := lp.ForceFlush(testContext(t))
	for _, want := range []string{"2 of 5 log records rejected", "bad_quantity", "0.30000000000000004", "unmapped", "page_view"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the exporter's partial success error %v does not say %q", err, want)
		}
	}
	stored := s.readStored(t)
	var quantities []string
	for _, p := range stored {
		for _, e := range p.events {
			quantities = append(quantities, e.Data.Quantity.String())
			if e.Source != "otlp://shop/billing/logs" || e.Subject != asset(1) || !strings.HasPrefix(e.ID, "l-") || e.Data.Item != "UNITS" {
				t.Errorf("stored event %+v", e)
			}
		}
	}
	if strings.Join(quantities, " ") == "" || len(quantities) != 3 || !containsAll(quantities, "3", "2.25", "1.5") {
		t.Errorf("stored quantities %v, want 3, 2.25 and 1.5", quantities)
	}
}

func containsAll(list []string, want ...string) bool {
	set := map[string]bool{}
	for _, s := range list {
		set[s] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// failFirst is a proxy in front of ingest that passes the first request on and then answers it 503, as a
// load balancer may after its backend stored the data; later requests pass.
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
		if rec.Code != http.StatusOK {
			t.Errorf("the first request was answered %d: %s", rec.Code, rec.Body)
		}
		http.Error(w, "backend answer lost", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// An exporter's retry after a 503 (its first request was stored, the answer lost) stores nothing twice:
// its packets are those of the first attempt, which JetStream's duplicate window drops (ingest's memory
// of stored keys is off here, so the retry is published).
func TestOTLPExporterRetryIsStoredOnce(t *testing.T) {
	cfg := otlpConfig()
	cfg.RecentIDs = -1
	s := startStack(t, cfg)
	proxy, calls := failFirst(t, s.http.URL)
	lp := logProvider(t, proxy.URL, billingResource(2))
	at := time.Now().Add(-time.Minute)
	for i := range 5 {
		lp.Logger("billing").Emit(testContext(t), usageRecord(at.Add(time.Duration(i)*time.Millisecond), attribute.Int64Value(int64(i+1))))
	}
	if err := lp.ForceFlush(testContext(t)); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests, want the first and its retry", n)
	}
	keys := storedKeys(s.readStored(t))
	if len(keys) != 5 {
		t.Fatalf("%d keys stored, want 5", len(keys))
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("%v stored %d times", k, n)
		}
	}
}

// meterProvider is a MeterProvider exporting with the SDK's otlpmetrichttp exporter to base at each
// ForceFlush, with the given temporality.
func meterProvider(t *testing.T, base string, res *resource.Resource, temporality metricdata.Temporality) *sdkmetric.MeterProvider {
	t.Helper()
	exp, err := otlpmetrichttp.New(testContext(t), otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"),
		otlpmetrichttp.WithHeaders(map[string]string{"Authorization": "Bearer " + otlpKey}),
		otlpmetrichttp.WithRetry(fastRetry.metrics),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return temporality }))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

// countUnits adds n to the test.units counter of mp and exports.
func countUnits(t *testing.T, mp *sdkmetric.MeterProvider, n int64) {
	t.Helper()
	c, err := mp.Meter("billing").Int64Counter("test.units")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(testContext(t), n)
	if err := mp.ForceFlush(testContext(t)); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
}

// Delta sums from the SDK's otlpmetrichttp exporter are stored as one event per point with the point's
// value; cumulative sums as their running totals marked with their series (data.cumulative), one series
// per producer run: after a restart (a new MeterProvider, a new start time) the totals start from zero in
// a new series, which the aggregator turns into deltas.
func TestOTLPMetricsFromTheSDKExporter(t *testing.T) {
	s := startStack(t, otlpConfig())
	delta := meterProvider(t, s.http.URL, billingResource(3), metricdata.DeltaTemporality)
	countUnits(t, delta, 5)
	countUnits(t, delta, 3)
	first := meterProvider(t, s.http.URL, billingResource(4), metricdata.CumulativeTemporality)
	countUnits(t, first, 5)
	countUnits(t, first, 3)
	if err := first.Shutdown(testContext(t)); err != nil {
		t.Fatal(err)
	}
	countUnits(t, meterProvider(t, s.http.URL, billingResource(4), metricdata.CumulativeTemporality), 4)

	bySubject := map[string][]events.Event{}
	for _, p := range s.readStored(t) {
		for _, e := range p.events {
			bySubject[e.Subject] = append(bySubject[e.Subject], e)
		}
	}
	var deltas []string
	for _, e := range bySubject[asset(3)] {
		deltas = append(deltas, e.Data.Quantity.String())
		if e.Data.Cumulative != nil || !strings.HasPrefix(e.ID, "p-") || e.Source != "otlp://shop/billing/metrics" {
			t.Errorf("delta point stored as %+v", e)
		}
	}
	if len(deltas) != 2 || !containsAll(deltas, "5", "3") {
		t.Errorf("delta points %v, want 5 and 3", deltas)
	}
	series := map[string][]string{}
	for _, e := range bySubject[asset(4)] {
		if e.Data.Cumulative == nil || !strings.HasPrefix(e.ID, "c-") || !e.Data.Cumulative.Start.Before(e.Time) {
			t.Fatalf("cumulative point stored as %+v", e)
		}
		series[e.Data.Cumulative.Series] = append(series[e.Data.Cumulative.Series], e.Data.Quantity.String())
	}
	if len(series) != 2 {
		t.Fatalf("cumulative points of %d series (%v), want 2: one per producer run", len(series), series)
	}
	for _, totals := range series { // the first run's shutdown exports its last total once more
		slices.Sort(totals)
		if got := strings.Join(slices.Compact(totals), " "); got != "5 8" && got != "4" {
			t.Errorf("series totals %v, want 5 and 8 (the first run), or 4 (the second)", totals)
		}
	}
}

// A gauge is billed only by a rule that says so (test.peak: gauge: value, a max item); a histogram only by
// a rule with histogram: count or sum (test.calls); an up-down counter (a non-monotonic cumulative sum) by
// no rule of the test catalog: its points are rejected as unsupported_metric, the others stored.
func TestOTLPGaugesAndHistogramsNeedARule(t *testing.T) {
	s := startStack(t, otlpConfig())
	mp := meterProvider(t, s.http.URL, billingResource(5), metricdata.CumulativeTemporality)
	m := mp.Meter("billing")
	peak, _ := m.Float64Gauge("test.peak")
	peak.Record(testContext(t), 12.5)
	calls, _ := m.Float64Histogram("test.calls")
	calls.Record(testContext(t), 0.2)
	calls.Record(testContext(t), 0.3)
	level, _ := m.Int64UpDownCounter("test.units")
	level.Add(testContext(t), 2)
	err := mp.ForceFlush(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "1 of 3 data points rejected") || !strings.Contains(err.Error(), "unsupported_metric") {
		t.Errorf("ForceFlush: %v, want a partial success rejecting the up-down counter", err)
	}
	got := map[string]string{}
	for _, p := range s.readStored(t) {
		for _, e := range p.events {
			got[e.Data.Item] = e.Data.Quantity.String()
			if e.Data.Item == "UNITS" && e.Data.Cumulative == nil {
				t.Errorf("the cumulative histogram's count was stored without its series: %+v", e)
			}
		}
	}
	if got["PEAK"] != "12.5" || got["UNITS"] != "2" || len(got) != 2 {
		t.Errorf("stored %v, want PEAK 12.5 (the gauge) and UNITS 2 (the histogram's count)", got)
	}
}
