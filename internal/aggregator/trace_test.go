package aggregator

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
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
	ctx, producer := tp.Tracer("test").Start(context.Background(), "publish "+subjects.EventsTemplate)
	h := bus.Header{events.HeaderKind: []string{events.KindEvents}}
	bus.InjectTrace(ctx, h)
	producer.End()
	at := usageEvent("tr-1", "AS-1", "UNITS", "1", time.Now())
	if _, err := env.conn.Publish(context.Background(), bus.Msg{Subject: subjects.Events(0), Header: h, Data: events.EncodePacket([]events.Event{at})}); err != nil {
		t.Fatal(err)
	}

	o := env.testOptions("tracer")
	o.TracerProvider = tp
	r := startedRunner(t, env, o)
	feedRunner(t, r)
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
	m, err := env.conn.LastMsg(context.Background(), bus.StreamAgg, subjects.Progress(0))
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

// TestClosingCommitLinksEventContexts checks the way back from a closed record to its events: the commit that
// closes a period (here triggered by an untraced tick) links to the trace contexts of the events folded into
// it, with their CloudEvents keys, and publishes the records with its own context; a commit of source messages
// links to them with their message ids.
func TestClosingCommitLinksEventContexts(t *testing.T) {
	otel.SetTextMapPropagator(telemetry.Propagator())
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	env := newTestEnv(t, 1)
	at := time.Now().Add(time.Second) // a period that closes 1.5 to 2.5 s from now: the packet arrives before
	evs := []events.Event{usageEvent("ev-a", "AS-1", "UNITS", "1", at), usageEvent("ev-b", "AS-2", "UNITS", "2", at)}
	var eventSpans []trace.SpanContext
	for i := range evs {
		_, span := tp.Tracer("test").Start(context.Background(), "POST /events")
		span.End()
		eventSpans = append(eventSpans, span.SpanContext())
		evs[i].TraceParent = traceParentOf(span.SpanContext())
	}
	ctx, producer := tp.Tracer("test").Start(context.Background(), "publish "+subjects.EventsTemplate)
	h := bus.Header{events.HeaderKind: []string{events.KindEvents}, bus.HeaderMsgID: []string{"packet-1"}}
	bus.InjectTrace(ctx, h)
	producer.End()
	if _, err := env.conn.Publish(context.Background(), bus.Msg{Subject: subjects.Events(0), Header: h, Data: events.EncodePacket(evs)}); err != nil {
		t.Fatal(err)
	}

	o := env.testOptions("tracer")
	o.TracerProvider = tp
	r := startedRunner(t, env, o)
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := commitSpans(exp)
	if len(first) != 1 || len(first[0].Links) != 1 || first[0].Links[0].SpanContext.SpanID() != producer.SpanContext().SpanID() ||
		!hasAttr(first[0].Links[0].Attributes, attribute.String("messaging.message.id", "packet-1")) {
		t.Fatalf("first commit spans %+v, want one linked to the packet's producer with its message id", first)
	}

	sleepUntil(at.Truncate(time.Second).Add(1600 * time.Millisecond)) // the period [s, s+1s) closes at s+1.5s
	env.tickAll()
	feedRunner(t, r)
	if len(r.pend.out.Closed) != 2 {
		t.Fatalf("closed %d records, want 2", len(r.pend.out.Closed))
	}
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := commitSpans(exp)
	closing := spans[len(spans)-1]
	if len(closing.Links) != len(evs) {
		t.Fatalf("closing commit links %+v, want the %d events' contexts", closing.Links, len(evs))
	}
	for i, l := range closing.Links {
		if l.SpanContext.TraceID() != eventSpans[i].TraceID() || l.SpanContext.SpanID() != eventSpans[i].SpanID() ||
			!hasAttr(l.Attributes, attribute.String("cloudevents.event_id", evs[i].ID)) ||
			!hasAttr(l.Attributes, attribute.String("cloudevents.event_source", "test")) {
			t.Errorf("link %d: %+v, want event %s's context %v", i, l, evs[i].ID, eventSpans[i])
		}
	}
	m, err := env.conn.LastMsg(context.Background(), bus.StreamAgg, subjects.Records.All())
	if err != nil {
		t.Fatal(err)
	}
	if sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), m.Header)); sc.SpanID() != closing.SpanContext.SpanID() {
		t.Errorf("the records carry span %v, want the closing commit's %v", sc.SpanID(), closing.SpanContext.SpanID())
	}
}

// TestSpanLinksBounded checks the link budget: at most maxLinks, distinct, event contexts first, and the source
// messages keep half of the room when both overflow it.
func TestSpanLinksBounded(t *testing.T) {
	var pd pending
	for i := range 3 * maxLinks {
		sc := testSpanContext(i % (2 * maxLinks)) // every context twice after 2*maxLinks
		pd.out.Links = append(pd.out.Links, aggregate.TraceLink{TraceParent: traceParentOf(sc), Source: "s", ID: strconv.Itoa(i)})
		pd.add(bus.Msg{Seq: uint64(i + 1), Header: bus.Header{"traceparent": {traceParentOf(testSpanContext(10000 + i))}}}, time.Now())
	}
	links := pd.spanLinks()
	if len(links) != maxLinks {
		t.Fatalf("%d links, want %d", len(links), maxLinks)
	}
	for i, l := range links {
		want := testSpanContext(i)
		if i >= maxLinks/2 {
			want = testSpanContext(10000 + i - maxLinks/2)
		}
		if l.SpanContext.SpanID() != want.SpanID() {
			t.Fatalf("link %d: span %v, want %v", i, l.SpanContext.SpanID(), want.SpanID())
		}
	}
	pd.reset()
	pd.out.Links = append(pd.out.Links, aggregate.TraceLink{TraceParent: traceParentOf(testSpanContext(1))},
		aggregate.TraceLink{TraceParent: traceParentOf(testSpanContext(1))}, aggregate.TraceLink{TraceParent: "garbage"})
	if links := pd.spanLinks(); len(links) != 1 {
		t.Errorf("links %+v, want one (duplicates and invalid contexts dropped)", links)
	}
}

func testSpanContext(n int) trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	binary.BigEndian.PutUint64(tid[8:], uint64(n)+1)
	binary.BigEndian.PutUint64(sid[:], uint64(n)+1)
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
}

func traceParentOf(sc trace.SpanContext) string {
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// startedRunner is a started runner of partition 0 that commits only when told to.
func startedRunner(t *testing.T, env *testEnv, o Options) *runner {
	t.Helper()
	o.CommitMessages, o.CommitOutputs = 1<<30, 1<<30
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
	r.catchUpTo = 0 // no commit on catching up either
	return r
}

// commitSpans returns the exported commit spans in the order they ended.
func commitSpans(exp *tracetest.InMemoryExporter) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range exp.GetSpans() {
		if s.Name == commitSpanName() {
			out = append(out, s)
		}
	}
	return out
}
