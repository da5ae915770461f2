package devstack_test

import (
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestTraceDump(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	o := testOptions(t, t.TempDir())
	o.SpanExporter = exp
	st := start(t, o)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	h := http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}}
	e := st.Catalogs().ExampleEvent("trace-1", time.Now())
	post(t, st, e, h)
	waitFor(t, "accepted file", 60*time.Second, func() bool { return len(acceptedFiles(st, e.Data.Product)) > 0 })
	time.Sleep(time.Second)
	for _, s := range exp.GetSpans() {
		svc := ""
		for _, kv := range s.Resource.Attributes() {
			if kv.Key == "service.name" {
				svc = kv.Value.AsString()
			}
		}
		if svc == "aggregator" && len(s.Links) == 0 && s.SpanContext.TraceID().String() != "d68b" {
			continue
		}
		t.Logf("%-10s %-40s kind=%v trace=%s span=%s parent=%s links=%d", svc, s.Name, s.SpanKind, s.SpanContext.TraceID(), s.SpanContext.SpanID(), s.Parent.SpanID(), len(s.Links))
		for _, l := range s.Links {
			t.Logf("     link trace=%s span=%s", l.SpanContext.TraceID(), l.SpanContext.SpanID())
		}
	}
}
