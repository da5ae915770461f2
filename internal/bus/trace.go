package bus

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// tracePropagator is the bus's own W3C trace-context propagator: message headers carry traceparent and
// tracestate whatever propagator the process installed globally (none, in a library user that set up no
// telemetry), so a trace crosses the streams the same way in every process.
var tracePropagator propagation.TextMapPropagator = propagation.TraceContext{}

// headerCarrier adapts Header to the OpenTelemetry TextMapCarrier with exact keys: W3C propagators write and
// read lowercase "traceparent"/"tracestate", which other-language producers also use. (An
// http.Header-based carrier would canonicalise them to "Traceparent".)
type headerCarrier Header

func (c headerCarrier) Get(key string) string { return Header(c).Get(key) }
func (c headerCarrier) Set(key, value string) { Header(c).Set(key, value) }
func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectTrace writes ctx's trace context into h (W3C traceparent and tracestate). h must be non-nil (a nil h is
// left untouched).
func InjectTrace(ctx context.Context, h Header) {
	if h == nil {
		return
	}
	tracePropagator.Inject(ctx, headerCarrier(h))
}

// ExtractTrace returns ctx with the trace context found in h (as a remote span context) added.
func ExtractTrace(ctx context.Context, h Header) context.Context {
	return tracePropagator.Extract(ctx, headerCarrier(h))
}
