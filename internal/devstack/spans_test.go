package devstack_test

import (
	"fmt"
	"slices"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

type sdkLink = sdktrace.Link

// spansWhere returns the spans for which keep holds.
func spansWhere(spans tracetest.SpanStubs, keep func(tracetest.SpanStub) bool) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// serviceOf is the span's service.name resource attribute.
func serviceOf(s tracetest.SpanStub) string {
	if s.Resource == nil {
		return ""
	}
	v, _ := s.Resource.Set().Value("service.name")
	return v.AsString()
}

// hasAttr reports whether a span has the string attribute key=value.
func hasAttr(key, value string) func(tracetest.SpanStub) bool {
	return func(s tracetest.SpanStub) bool {
		for _, kv := range s.Attributes {
			if string(kv.Key) == key && kv.Value.AsString() == value {
				return true
			}
		}
		return false
	}
}

// attr is the span's attribute key as text ("" when absent).
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// linkAttr is the link's attribute key as text ("" when absent).
func linkAttr(l sdkLink, key string) string {
	for _, kv := range l.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

// isParentOf reports whether a span is child's parent.
func isParentOf(child tracetest.SpanStub) func(tracetest.SpanStub) bool {
	return func(s tracetest.SpanStub) bool {
		return child.Parent.TraceID() == s.SpanContext.TraceID() && child.Parent.SpanID() == s.SpanContext.SpanID()
	}
}

func containsSpan(spans []tracetest.SpanStub, s tracetest.SpanStub) bool {
	return slices.ContainsFunc(spans, func(x tracetest.SpanStub) bool { return sameSpan(x.SpanContext, s.SpanContext) })
}

// sameSpan compares trace and span ids only: a link's context was extracted from headers (remote), the
// span's own is local.
func sameSpan(a, b trace.SpanContext) bool {
	return a.TraceID() == b.TraceID() && a.SpanID() == b.SpanID()
}

// names lists spans as "name(links=n)".
func names(spans []tracetest.SpanStub) string {
	var out []string
	for _, s := range spans {
		out = append(out, fmt.Sprintf("%q(links=%d)", s.Name, len(s.Links)))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// linkTargets describes the spans the given service's spans link to, once each.
func linkTargets(spans tracetest.SpanStubs, service string) string {
	var targets []tracetest.SpanStub
	for _, s := range spansWhere(spans, func(s tracetest.SpanStub) bool { return serviceOf(s) == service }) {
		for _, l := range s.Links {
			for _, t := range spans {
				if sameSpan(t.SpanContext, l.SpanContext) && !containsSpan(targets, t) {
					targets = append(targets, t)
				}
			}
		}
	}
	return names(targets)
}
