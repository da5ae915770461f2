package devstack_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceFollowsOneEventIntoConnect sends events with known traceparents through the whole stack and
// follows each trace to Connect: the ingest server span continues the producer's trace; its publish span
// (PRODUCER, the context injected into the NATS headers) is linked by an aggregator processing span with the
// message's id; a submitter file span of the event's product, period and revision links onward to the
// aggregator work that folded the event; the Connect HTTP client spans to the emulator are children of that
// file span. Once for an event counted in its period's closed value (revision 0), once for a late event
// reported as an adjustment in a supplementary file (revision ≥ 1).
func TestTraceFollowsOneEventIntoConnect(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	o := testOptions(t, t.TempDir())
	o.SpanExporter = exp
	st := start(t, o)
	first := st.Catalogs().ExampleEvent("traced-closed", time.Now())
	product := first.Data.Product

	t.Run("closed period", func(t *testing.T) {
		ev := newTracedEvent(t, st, first, producerSpan(1), false)
		post(t, st, first, traceHeader(ev.producer))
		waitFor(t, "an accepted usage file", 90*time.Second, func() bool { return len(acceptedFiles(st, product)) == 1 })
		waitForTrace(t, exp, ev)
	})
	t.Run("late adjustment", func(t *testing.T) {
		waitFor(t, "the first file", 90*time.Second, func() bool { return len(acceptedFiles(st, product)) >= 1 })
		late := st.Catalogs().ExampleEvent("traced-late", first.Time) // its period is closed
		ev := newTracedEvent(t, st, late, producerSpan(2), true)
		post(t, st, late, traceHeader(ev.producer))
		waitFor(t, "an accepted supplementary file", 90*time.Second, func() bool { return len(acceptedFiles(st, product)) == 2 })
		waitForTrace(t, exp, ev)
	})
}

// producerSpan is a producer's sampled span context, distinct for each n.
func producerSpan(n byte) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, n},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, n}, TraceFlags: trace.FlagsSampled,
	})
}

func traceHeader(sc trace.SpanContext) http.Header {
	return http.Header{"Traceparent": {fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())}}
}

// waitForTrace polls the exported spans until the event's chain is complete (the last spans end just
// after the file is accepted), and fails with the first missing hop.
func waitForTrace(t *testing.T, exp *tracetest.InMemoryExporter, ev tracedEvent) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	err := ev.follow(exp.GetSpans())
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		err = ev.follow(exp.GetSpans())
	}
	if err != nil {
		t.Fatal(err)
	}
}

// linkedFrom returns the spans of service that link to one of targets.
func linkedFrom(spans tracetest.SpanStubs, service string, targets []tracetest.SpanStub) []tracetest.SpanStub {
	return spansWhere(spans, func(s tracetest.SpanStub) bool {
		return serviceOf(s) == service && slices.ContainsFunc(s.Links, func(l sdkLink) bool {
			return slices.ContainsFunc(targets, func(t tracetest.SpanStub) bool { return sameSpan(t.SpanContext, l.SpanContext) })
		})
	})
}

// reachable extends spans of service with those of the same service that link to them, transitively (an
// aggregator commit that closes a period may link to the commits that folded its events).
func reachable(spans tracetest.SpanStubs, service string, from []tracetest.SpanStub) []tracetest.SpanStub {
	out := slices.Clone(from)
	for {
		more := linkedFrom(spans, service, out)
		more = slices.DeleteFunc(more, func(s tracetest.SpanStub) bool { return containsSpan(out, s) })
		if len(more) == 0 {
			return out
		}
		out = append(out, more...)
	}
}
