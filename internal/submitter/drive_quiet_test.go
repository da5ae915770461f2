package submitter

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// stepSpans counts the spans of steps named op ("usagefile wait", …) of the entry at key.
func stepSpans(spans *tracetest.InMemoryExporter, op, key string) int {
	n := 0
	for _, s := range spans.GetSpans() {
		if s.Name != op {
			continue
		}
		for _, a := range s.Attributes {
			if a.Key == attrKey && a.Value.AsString() == key {
				n++
			}
		}
	}
	return n
}

// TestWaitingForProcessingHoldsNoWorker: Connect never finishes processing (an hour's delay) and the
// submitter has one worker. Every step of an uploaded file reads it once and reschedules itself, so the one
// worker goes round every file: all three periods get uploaded and read at least twice, and each wait span
// holds one read. The reads are quiet steps, written only by the lease renewals (every second here), which
// store the count of reads the driver keeps in memory: it must reach the ledger too.
func TestWaitingForProcessingHoldsNoWorker(t *testing.T) {
	env := newTestEnvWith(t, connectemu.Options{ProcessingDelay: time.Hour, Provider: autoAccept})
	subs := subscriptions("WAIT", 2)
	env.seedAssets(subs...)
	spans := tracetest.NewInMemoryExporter()
	o := env.options()
	o.Concurrency, o.TracerProvider = 1, sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	env.start(o)
	var ids []ledger.FileID
	for n := range 3 {
		env.closePeriod(period(n), subs)
		ids = append(ids, ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(n).Start, Part: 1})
	}
	waitFor(t, 30*time.Second, "every file uploaded and read twice while processing", func() bool {
		for _, id := range ids {
			e := env.entry(id)
			if e == nil || e.State != ledger.StateUploaded || e.Polls < 2 || stepSpans(spans, "usagefile wait", id.Key()) < 2 {
				return false
			}
		}
		return true
	})
	for _, s := range spans.GetSpans() {
		if n := childrenOf(spans.GetSpans(), s.SpanContext.SpanID()); s.Name == "usagefile wait" && n != 1 {
			t.Errorf("a wait step made %d requests, want 1", n)
		}
	}
}

// TestQuietPollsWriteNothing: while Connect processes the upload, each read that finds it still processing
// is a step of its own, and none of them writes the ledger (the lease, 5 min here, needs no renewal).
func TestQuietPollsWriteNothing(t *testing.T) {
	env := newTestEnvWith(t, connectemu.Options{ProcessingDelay: time.Hour, Provider: autoAccept})
	subs := subscriptions("QUIET", 2)
	env.seedAssets(subs...)
	spans := tracetest.NewInMemoryExporter()
	o := env.options()
	o.LeaseTTL, o.TracerProvider = 5*time.Minute, sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	env.start(o)
	env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	env.waitState(id, 30*time.Second, ledger.StateUploaded)
	// The first read after the upload finds it processing, a change it writes (status, polls); the reads after
	// it find nothing new.
	waitFor(t, 30*time.Second, "the upload seen processing", func() bool {
		e := env.entry(id)
		return e != nil && e.Status == string(usageapi.FileStatusProcessing)
	})
	_, rev, err := env.ledger.Get(context.Background(), id.Key())
	if err != nil {
		t.Fatal(err)
	}
	polls := stepSpans(spans, "usagefile wait", id.Key())
	waitFor(t, 30*time.Second, "three more reads", func() bool { return stepSpans(spans, "usagefile wait", id.Key()) >= polls+3 })
	e, now, err := env.ledger.Get(context.Background(), id.Key())
	if err != nil || now != rev || e.State != ledger.StateUploaded {
		t.Errorf("entry at revision %d (%v, %s) after three reads; want still %d, uploaded", now, err, e.State, rev)
	}
}
