package aggregator

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestCommitSpanLinksSourceMessages checks that a commit is one CONSUMER span linked to the trace context of
// its source packets, and that the committed messages carry that span's context.
func TestCommitSpanLinksSourceMessages(t *testing.T) {
	otel.SetTextMapPropagator(telemetry.Propagator())
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	env := newTestEnv(t, 1)
	ctx, producer := tp.Tracer("test").Start(context.Background(), "publish usage.events.{partition}")
	h := bus.Header{events.HeaderKind: []string{events.KindEvents}}
	bus.InjectTrace(ctx, h)
	producer.End()
	at := usageEvent("tr-1", "AS-1", "UNITS", "1", time.Now())
	if _, err := env.conn.Publish(context.Background(), bus.Msg{Subject: eventsSubject(0), Header: h, Data: events.EncodePacket([]events.Event{at})}); err != nil {
		t.Fatal(err)
	}

	o := env.testOptions("tracer")
	o.TracerProvider = tp
	d, err := newDeps(env.conn, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, 0)
	if err := r.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	feed(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}

	var commit *tracetest.SpanStub
	for i, s := range exp.GetSpans() {
		if s.Name == commitSpanName() {
			commit = &exp.GetSpans()[i]
		}
	}
	if commit == nil {
		t.Fatalf("no %q span among %d", commitSpanName(), len(exp.GetSpans()))
	}
	if commit.SpanKind != trace.SpanKindConsumer {
		t.Errorf("span kind %v, want consumer", commit.SpanKind)
	}
	if len(commit.Links) != 1 || commit.Links[0].SpanContext.SpanID() != producer.SpanContext().SpanID() {
		t.Errorf("links %+v, want the producer span %v", commit.Links, producer.SpanContext().SpanID())
	}
	if !hasAttr(commit.Attributes, attribute.String("messaging.system", "nats")) ||
		!hasAttr(commit.Attributes, attribute.String("messaging.operation.type", "process")) {
		t.Errorf("attributes %v lack the messaging conventions", commit.Attributes)
	}
	m, err := env.conn.LastMsg(context.Background(), bus.StreamAgg, progressSubject(0))
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), m.Header))
	if sc.SpanID() != commit.SpanContext.SpanID() {
		t.Errorf("committed message carries span %v, want the commit span %v", sc.SpanID(), commit.SpanContext.SpanID())
	}
}

func hasAttr(attrs []attribute.KeyValue, want attribute.KeyValue) bool {
	for _, a := range attrs {
		if a == want {
			return true
		}
	}
	return false
}
