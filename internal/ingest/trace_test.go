package ingest_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/usagepipe/usagepipe/internal/ingest"
)

func TestTraceContextFlowsFromProducerToPacketAndEvents(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 1})
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	const ownTraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	plain, traced := goodEvent("plain", asset(1)), goodEvent("traced", asset(1))
	traced.TraceParent = ownTraceParent
	r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{plain, traced}), "traceparent", "00-"+traceID+"-"+parentID+"-01")
	if r.code != 200 {
		t.Fatalf("post: %d %s", r.code, r.raw)
	}

	server := waitSpan(t, s.spans, func(sp tracetest.SpanStub) bool { return sp.SpanKind == trace.SpanKindServer })
	if server.SpanContext.TraceID().String() != traceID || server.Parent.SpanID().String() != parentID {
		t.Errorf("server span %s/%s does not continue the producer's %s/%s",
			server.SpanContext.TraceID(), server.Parent.SpanID(), traceID, parentID)
	}
	publish := waitSpan(t, s.spans, func(sp tracetest.SpanStub) bool { return sp.SpanKind == trace.SpanKindProducer })
	if publish.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Errorf("publish span's parent %s is not the server span %s", publish.Parent.SpanID(), server.SpanContext.SpanID())
	}
	for k, want := range map[attribute.Key]string{
		"messaging.system": "nats", "messaging.operation.name": "publish",
		"messaging.destination.template": "usage.events.{partition}", "messaging.destination.name": "usage.events.0",
	} {
		if have := attr(publish, k); have != want {
			t.Errorf("publish span %s: want %q, have %q", k, want, have)
		}
	}

	packets := s.readStored(t)
	if len(packets) != 1 {
		t.Fatalf("want one packet, have %d", len(packets))
	}
	wantHeader := "00-" + traceID + "-" + publish.SpanContext.SpanID().String() + "-01"
	if have := packets[0].msg.Header.Get("traceparent"); have != wantHeader {
		t.Errorf("packet traceparent: want %s, have %s", wantHeader, have)
	}
	wantEvent := map[string]string{
		"plain":  "00-" + traceID + "-" + server.SpanContext.SpanID().String() + "-01",
		"traced": ownTraceParent,
	}
	for _, e := range packets[0].events {
		if want := wantEvent[e.ID]; e.TraceParent != want {
			t.Errorf("event %s traceparent: want %s, have %s", e.ID, want, e.TraceParent)
		}
	}
}

// waitSpan returns the first ended span matching match; the server span ends just after the response is sent.
func waitSpan(t *testing.T, exp *tracetest.InMemoryExporter, match func(tracetest.SpanStub) bool) tracetest.SpanStub {
	t.Helper()
	ctx := testContext(t)
	for ctx.Err() == nil {
		for _, sp := range exp.GetSpans() {
			if match(sp) {
				return sp
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("span never ended")
	return tracetest.SpanStub{}
}

func attr(sp tracetest.SpanStub, key attribute.Key) string {
	for _, kv := range sp.Attributes {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}
