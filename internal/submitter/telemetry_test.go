package submitter

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestFileSpansLinkToTheRecordsAndMetricsCountTheFile(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0008", 6)
	env.seedAssets(subs...)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	env.agg.tracer = tp.Tracer("aggregator")
	metrics := sdkmetric.NewManualReader()
	o := env.options()
	o.TracerProvider, o.MeterProvider = tp, sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))
	if err := env.emu.SetFaults("files.submit", connectemu.Fault{Kind: connectemu.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	env.start(o)
	records := env.closePeriod(period(1), subs)
	e := env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}, 30*time.Second, ledger.StateAccepted)

	commits := map[trace.TraceID]bool{}
	for _, s := range spans.GetSpans() {
		if s.InstrumentationScope.Name == "aggregator" {
			commits[s.SpanContext.TraceID()] = true
		}
	}
	submit := findSpan(t, spans.GetSpans(), "usagefile submit")
	if len(submit.Links) == 0 || len(e.Links) != len(submit.Links) {
		t.Errorf("submit span has %d links, the entry %d", len(submit.Links), len(e.Links))
	}
	for _, l := range submit.Links {
		if !commits[l.SpanContext.TraceID()] {
			t.Errorf("link to %s, not an aggregator commit", l.SpanContext.TraceID())
		}
	}
	if !hasEvent(submit, "retry") || !hasAttr(submit.Attributes, "connect.file.id", e.FileID) ||
		!hasAttr(submit.Attributes, "usagepipe.period", "20261102T000000Z") {
		t.Errorf("submit span: events %v, attributes %v", submit.Events, submit.Attributes)
	}
	if children := childrenOf(spans.GetSpans(), submit.SpanContext.SpanID()); children == 0 {
		t.Error("no HTTP client span under the submit span")
	}
	findSpan(t, spans.GetSpans(), "usagefile plan")

	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	checkSum(t, rm, "usagepipe.submitter.files", map[string]string{"state": "accepted", "kind": "closed"}, 1)
	checkSum(t, rm, "usagepipe.submitter.records.submitted", map[string]string{"kind": "closed"}, int64(len(records)))
	checkSum(t, rm, "usagepipe.submitter.retries", map[string]string{"op": "SubmitFile", "reason": "503"}, 1)
	checkHistogramCount(t, rm, "usagepipe.submitter.close_to_submit", 1)
	checkHistogramCount(t, rm, "usagepipe.submitter.close_to_accept", 1)
	for _, reason := range []string{"connect_invalid", "unwritable"} { // from zero, though none was written
		checkSum(t, rm, "usagepipe.dead_letters", map[string]string{"stage": "submitter", "reason": reason}, 0)
	}
}

func findSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q", name)
	return tracetest.SpanStub{}
}

func childrenOf(spans tracetest.SpanStubs, parent trace.SpanID) int {
	n := 0
	for _, s := range spans {
		if s.Parent.SpanID() == parent && s.SpanKind == trace.SpanKindClient {
			n++
		}
	}
	return n
}

func hasEvent(s tracetest.SpanStub, name string) bool {
	for _, e := range s.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

func hasAttr(attrs []attribute.KeyValue, key, value string) bool {
	for _, a := range attrs {
		if string(a.Key) == key && a.Value.String() == value {
			return true
		}
	}
	return false
}

// checkSum wants the counter's data point with exactly these attributes to be at least min.
func checkSum(t *testing.T, rm metricdata.ResourceMetrics, name string, attrs map[string]string, min int64) {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if matches(dp.Attributes, attrs) && dp.Value >= min {
					return
				}
			}
			t.Errorf("%s%v: data points %+v", name, attrs, sum.DataPoints)
			return
		}
	}
	t.Errorf("no metric %s", name)
}

func matches(set attribute.Set, want map[string]string) bool {
	if set.Len() != len(want) {
		return false
	}
	for k, v := range want {
		if got, ok := set.Value(attribute.Key(k)); !ok || got.String() != v {
			return false
		}
	}
	return true
}

func checkHistogramCount(t *testing.T, rm metricdata.ResourceMetrics, name string, want uint64) {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				var n uint64
				for _, dp := range h.DataPoints {
					n += dp.Count
				}
				if n != want {
					t.Errorf("%s: %d observations, want %d", name, n, want)
				}
				return
			}
		}
	}
	t.Errorf("no histogram %s", name)
}

// TestMovesAreCountedWhateverTheHistory: an entry whose history is full (trimmed at every move) jumps from
// ready to accepted, as after a crash whose submit was never written, and another is parked. Each move is
// counted and logged once: the jump counts the submission and the acceptance.
func TestMovesAreCountedWhateverTheHistory(t *testing.T) {
	metrics := sdkmetric.NewManualReader()
	var logs bytes.Buffer
	s, err := New(nil, Options{Catalog: testCatalog(t), ConnectURL: "http://127.0.0.1:1/public/v1", ConnectAPIKey: testAPIKey,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics)), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	full := func(key string, st ledger.State) *ledger.Entry {
		e := &ledger.Entry{Key: key, State: ledger.StatePlanned, Records: 7, ClosedAt: t0}
		for i := range ledger.MaxHistory {
			e.History = append(e.History, ledger.Transition{State: ledger.StatePlanned, At: t0.Add(time.Duration(i) * time.Second)})
		}
		e.State = st
		return e
	}
	ctx := context.Background()
	jumped := full(ledger.FilesPrefix+"a", ledger.StateReady)
	if err := jumped.MoveTo(ledger.StateAccepted, t0.Add(time.Hour), "fine"); err != nil {
		t.Fatal(err)
	}
	s.drive.transitioned(ctx, jumped)
	parked := full(ledger.FilesPrefix+"b", ledger.StateSubmitted)
	if err := parked.MoveTo(ledger.StateFailed, t0.Add(time.Hour), "gone"); err != nil {
		t.Fatal(err)
	}
	s.drive.transitioned(ctx, parked)
	s.drive.transitioned(ctx, parked) // written again without moving: nothing more to report

	var rm metricdata.ResourceMetrics
	if err := metrics.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	checkSum(t, rm, "usagepipe.submitter.files", map[string]string{"state": "accepted", "kind": "closed"}, 1)
	checkSum(t, rm, "usagepipe.submitter.files", map[string]string{"state": "failed", "kind": "closed"}, 1)
	checkSum(t, rm, "usagepipe.submitter.records.submitted", map[string]string{"kind": "closed"}, 7)
	checkHistogramCount(t, rm, "usagepipe.submitter.close_to_submit", 1)
	checkHistogramCount(t, rm, "usagepipe.submitter.close_to_accept", 1)
	if n := strings.Count(logs.String(), "parked for an operator"); n != 1 {
		t.Errorf("%d parked logs, want 1:\n%s", n, logs.String())
	}
}
