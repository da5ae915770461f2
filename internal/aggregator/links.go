package aggregator

import (
	"context"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// maxLinks bounds the span links of one commit (the SDK's default link limit).
const maxLinks = 128

// headerTraceParent is the W3C trace context header as the propagators write it on NATS messages.
const headerTraceParent = "traceparent"

// spanLinks builds a commit span's links, distinct and at most maxLinks: the trace contexts of events folded
// into the periods the commit closes (the only way back from a closed record, which a later message, often a
// tick, publishes, to the requests that carried its events), then those of the commit's source messages.
// When both kinds are there, the source messages keep up to half of the room.
func (pd *pending) spanLinks() []trace.Link {
	msgRoom := min(len(pd.traced), maxLinks/2)
	links := make([]trace.Link, 0, min(len(pd.out.Links)+len(pd.traced), maxLinks))
	seen := make(map[spanKey]bool, cap(links))
	add := func(sc trace.SpanContext, l trace.Link) {
		key := spanKey{sc.TraceID(), sc.SpanID()}
		if sc.IsValid() && !seen[key] {
			seen[key] = true
			l.SpanContext = sc
			links = append(links, l)
		}
	}
	for i := range pd.out.Links {
		if len(links) >= maxLinks-msgRoom {
			break
		}
		add(eventLink(&pd.out.Links[i]))
	}
	for _, h := range pd.traced {
		if len(links) >= maxLinks {
			break
		}
		add(messageLink(h))
	}
	return links
}

// spanKey identifies a span.
type spanKey struct {
	trace trace.TraceID
	span  trace.SpanID
}

// eventLink is the link to an event's trace context, with its CloudEvents key.
func eventLink(l *aggregate.TraceLink) (trace.SpanContext, trace.Link) {
	sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), bus.Header{headerTraceParent: {l.TraceParent}}))
	return sc, trace.Link{Attributes: []attribute.KeyValue{
		semconv.CloudEventsEventID(l.ID), semconv.CloudEventsEventSource(l.Source),
	}}
}

// messageLink is the link to a source message's trace context, with its message id (Nats-Msg-Id) if it has one.
func messageLink(h bus.Header) (trace.SpanContext, trace.Link) {
	sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), h))
	var l trace.Link
	if id := h.Get(bus.HeaderMsgID); id != "" {
		l.Attributes = []attribute.KeyValue{semconv.MessagingMessageID(id)}
	}
	return sc, l
}
