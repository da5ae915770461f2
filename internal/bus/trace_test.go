package bus

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceContextUsesLowercaseKeys(t *testing.T) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

	h := Header{}
	InjectTrace(ctx, h)
	if want, have := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h.Get("traceparent"); want != have {
		t.Fatalf("traceparent %q, want %q (header %v)", have, want, h)
	}
	for k := range h {
		if k != strings.ToLower(k) {
			t.Errorf("header key %q is not lowercase", k)
		}
	}
	// A producer in another language sets the lowercase key by hand.
	foreign := Header{"traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	got := trace.SpanContextFromContext(ExtractTrace(context.Background(), foreign))
	if !got.IsRemote() || got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("extracted %v", got)
	}
	InjectTrace(ctx, nil) // must not panic
}

// TestTraceSurvivesTheStream checks the header travels through JetStream unchanged.
func TestTraceSurvivesTheStream(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	_, c := setup(t)
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(testContext(t),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	m := eventMsg(1, "t", "x")
	InjectTrace(ctx, m.Header)
	if _, err := c.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	stored := readAll(t, c, StreamEvents, ReadOptions{})[0]
	if got := trace.SpanContextFromContext(ExtractTrace(context.Background(), stored.Header)); got.TraceID() != tid {
		t.Fatalf("trace id after the stream: %v", got.TraceID())
	}
}

// TestTraceNeedsNoGlobalPropagator: the bus carries the trace context with its own W3C propagator, whatever
// the process installed globally (here a propagator that carries nothing).
func TestTraceNeedsNoGlobalPropagator(t *testing.T) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	h := Header{}
	InjectTrace(ctx, h)
	if got := trace.SpanContextFromContext(ExtractTrace(context.Background(), h)); got.TraceID() != tid || got.SpanID() != sid {
		t.Fatalf("with no global propagator: header %v extracted as %v", h, got)
	}
}
