package devstack_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// tracedEvent is one event sent with a producer's span, and what its trace must show.
type tracedEvent struct {
	producer        trace.SpanContext
	id              string
	product, period string // the event's product and the key of its period (usagepipe.period)
	supplement      bool   // reported as an adjustment: a file of revision ≥ 1
	emulator        string // host:port of the Connect emulator
}

func newTracedEvent(t *testing.T, st *devstack.Stack, e events.Event, producer trace.SpanContext, supplement bool) tracedEvent {
	t.Helper()
	p, ok := st.Catalogs().Pipeline.Product(e.Data.Product)
	if !ok {
		t.Fatalf("product %s not in the catalog", e.Data.Product)
	}
	u, err := url.Parse(st.URLs().Emulator)
	if err != nil {
		t.Fatal(err)
	}
	return tracedEvent{producer: producer, id: e.ID, product: p.ID, period: p.PeriodOf(e.Time).Key(),
		supplement: supplement, emulator: u.Host}
}

// follow checks each hop of the chain from the producer's span to the Connect HTTP calls and reports the
// first one missing.
func (ev tracedEvent) follow(spans tracetest.SpanStubs) error {
	server := spansWhere(spans, func(s tracetest.SpanStub) bool {
		return serviceOf(s) == devstack.ServiceIngest && s.SpanKind == trace.SpanKindServer && s.Parent.SpanID() == ev.producer.SpanID() &&
			s.SpanContext.TraceID() == ev.producer.TraceID()
	})
	if len(server) == 0 {
		return fmt.Errorf("hop 1: no ingest server span is a child of the producer's span")
	}
	publish := spansWhere(spans, func(s tracetest.SpanStub) bool { return isPublish(s) && descendsFrom(spans, s, server) })
	if len(publish) == 0 {
		return fmt.Errorf("hop 1: no ingest PRODUCER span (messaging.system=nats, publish to usage.events.<p>, a message id) under the server span")
	}
	consumers := linkedByMessage(spans, publish)
	if len(consumers) == 0 {
		return fmt.Errorf("hop 2: no aggregator CONSUMER span (messaging.system=nats, process) links to the publish span %s with its messaging.message.id", names(publish))
	}
	folded := reachable(spans, devstack.ServiceAggregator, append(consumers, linkedByEvent(spans, server, ev.id)...))
	files := spansWhere(spans, func(s tracetest.SpanStub) bool { return ev.isFileSpan(s) && linksToAny(s, folded) })
	if len(files) == 0 {
		return fmt.Errorf("hop 3: no submitter file span of %s period %s (supplement %t) links to the aggregator work that folded the event %s; submitter spans link to %s",
			ev.product, ev.period, ev.supplement, names(folded), linkTargets(spans, devstack.ServiceSubmitter))
	}
	calls := spansWhere(spans, func(s tracetest.SpanStub) bool {
		return ev.isConnectCall(s) && slices.ContainsFunc(files, isParentOf(s))
	})
	if len(calls) == 0 {
		return fmt.Errorf("hop 4: no HTTP client span to the emulator (%s) with a method is a child of the file spans %s", ev.emulator, names(files))
	}
	return nil
}

// isPublish reports whether s is an ingest publish span as the messaging conventions describe it.
func isPublish(s tracetest.SpanStub) bool {
	return serviceOf(s) == devstack.ServiceIngest && s.SpanKind == trace.SpanKindProducer &&
		hasAttr("messaging.system", "nats")(s) && hasAttr("messaging.operation.name", "publish")(s) &&
		strings.HasPrefix(attr(s, "messaging.destination.name"), subjects.EventsRoot+".") && attr(s, "messaging.message.id") != ""
}

// isConsumer reports whether s is an aggregator processing span.
func isConsumer(s tracetest.SpanStub) bool {
	return serviceOf(s) == devstack.ServiceAggregator && s.SpanKind == trace.SpanKindConsumer &&
		hasAttr("messaging.system", "nats")(s) && hasAttr("messaging.operation.type", "process")(s)
}

// linkedByMessage returns the aggregator processing spans that link to one of the publish spans, the link
// naming that span's message (messaging.message.id).
func linkedByMessage(spans tracetest.SpanStubs, publish []tracetest.SpanStub) []tracetest.SpanStub {
	return spansWhere(spans, func(s tracetest.SpanStub) bool {
		return isConsumer(s) && slices.ContainsFunc(s.Links, func(l sdkLink) bool {
			return slices.ContainsFunc(publish, func(p tracetest.SpanStub) bool {
				return sameSpan(p.SpanContext, l.SpanContext) && linkAttr(l, "messaging.message.id") == attr(p, "messaging.message.id")
			})
		})
	})
}

// linkedByEvent returns the aggregator processing spans that link to one of the server spans as the trace
// context of the event id (cloudevents.event_id): the commit that published the event's period.
func linkedByEvent(spans tracetest.SpanStubs, server []tracetest.SpanStub, id string) []tracetest.SpanStub {
	return spansWhere(spans, func(s tracetest.SpanStub) bool {
		return isConsumer(s) && slices.ContainsFunc(s.Links, func(l sdkLink) bool {
			return linkAttr(l, "cloudevents.event_id") == id && slices.ContainsFunc(server, func(t tracetest.SpanStub) bool {
				return sameSpan(t.SpanContext, l.SpanContext)
			})
		})
	})
}

// isFileSpan reports whether s is a submitter file operation of the event's product, period and kind.
func (ev tracedEvent) isFileSpan(s tracetest.SpanStub) bool {
	if serviceOf(s) != devstack.ServiceSubmitter || !strings.HasPrefix(s.Name, "usagefile ") || s.Name == "usagefile plan" {
		return false
	}
	rev, err := strconv.Atoi(attr(s, "usagepipe.file.revision"))
	return err == nil && (rev > 0) == ev.supplement && hasAttr("usagepipe.product", ev.product)(s) &&
		hasAttr("usagepipe.period", ev.period)(s)
}

// isConnectCall reports whether s is an HTTP client span of a request to the emulator.
func (ev tracedEvent) isConnectCall(s tracetest.SpanStub) bool {
	host := attr(s, "server.address")
	if p := attr(s, "server.port"); p != "" {
		host += ":" + p
	}
	return s.SpanKind == trace.SpanKindClient && attr(s, "http.request.method") != "" && host == ev.emulator
}

// descendsFrom reports whether one of s's ancestors (by parent ids within the exported spans) is in roots.
func descendsFrom(spans tracetest.SpanStubs, s tracetest.SpanStub, roots []tracetest.SpanStub) bool {
	for range len(spans) {
		if slices.ContainsFunc(roots, isParentOf(s)) {
			return true
		}
		i := slices.IndexFunc(spans, isParentOf(s))
		if i < 0 {
			return false
		}
		s = spans[i]
	}
	return false
}

func linksToAny(s tracetest.SpanStub, targets []tracetest.SpanStub) bool {
	return slices.ContainsFunc(s.Links, func(l sdkLink) bool {
		return slices.ContainsFunc(targets, func(t tracetest.SpanStub) bool { return sameSpan(t.SpanContext, l.SpanContext) })
	})
}
