package bus

import (
	"context"

	"go.opentelemetry.io/otel"
)

// headerCarrier adapts Header to the OpenTelemetry TextMapCarrier with exact keys: W3C propagators write and
// read lowercase "traceparent"/"tracestate"/"baggage", which other-language producers also use. (An
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

// InjectTrace writes ctx's trace context into h with the global propagator. h must be non-nil (a nil h is left
// untouched).
func InjectTrace(ctx context.Context, h Header) {
	if h == nil {
		return
	}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))
}

// ExtractTrace returns ctx with the trace context found in h (as a remote span context) added.
func ExtractTrace(ctx context.Context, h Header) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, headerCarrier(h))
}
