package submitter

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestWaitingForProcessingHoldsNoWorker: Connect never finishes processing (an hour's delay) and the
// submitter has one worker. Every step of an uploaded file reads it once and reschedules itself, so the one
// worker goes round every file: all three periods get uploaded, and each wait span holds one read.
func TestWaitingForProcessingHoldsNoWorker(t *testing.T) {
	env := newTestEnvWith(t, usageapitest.Options{ProcessingDelay: time.Hour, Provider: autoAccept})
	subs := subscriptions("WAIT", 2)
	env.seedAssets(subs...)
	spans := tracetest.NewInMemoryExporter()
	o := env.options()
	o.Concurrency, o.TracerProvider = 1, sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	env.start(o)
	var ids []FileID
	for n := range 3 {
		env.closePeriod(period(n), subs)
		ids = append(ids, FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1})
	}
	waitFor(t, 30*time.Second, "every file uploaded and read while processing", func() bool {
		for _, id := range ids {
			if e := env.entry(id); e == nil || e.State != StateUploaded || e.Polls < 2 {
				return false
			}
		}
		return true
	})
	waits := 0
	for _, s := range spans.GetSpans() {
		if s.Name != "usagefile wait" {
			continue
		}
		waits++
		if n := childrenOf(spans.GetSpans(), s.SpanContext.SpanID()); n != 1 {
			t.Errorf("a wait step made %d requests, want 1", n)
		}
	}
	if waits < 2*len(ids) {
		t.Errorf("%d wait steps, want at least %d", waits, 2*len(ids))
	}
}
