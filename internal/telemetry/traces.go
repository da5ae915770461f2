package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Protocols accepted in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

func newTracerProvider(ctx context.Context, opts Options, res *resource.Resource) (*sdktrace.TracerProvider, error) {
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if opts.SpanExporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(opts.SpanExporter))
		return sdktrace.NewTracerProvider(tpOpts...), nil
	}
	exp, err := otlpExporter(ctx, opts.Getenv)
	if err != nil {
		return nil, err
	}
	if exp != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	return sdktrace.NewTracerProvider(tpOpts...), nil
}

// ErrTracesExporter is wrapped by the error of an OTEL_TRACES_EXPORTER usagepipe does not offer.
var ErrTracesExporter = errors.New("OTEL_TRACES_EXPORTER: want otlp (the default) or none")

// otlpExporter returns the OTLP span exporter the environment asks for, or nil when no endpoint is set,
// OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is "none".
func otlpExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	wanted, err := tracesExporter(getenv("OTEL_TRACES_EXPORTER"))
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || !wanted {
		return nil, nil
	}
	endpoint, perSignal := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), true
	if endpoint == "" {
		endpoint, perSignal = getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), false
	}
	if endpoint == "" {
		return nil, nil
	}
	protocol := firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), ProtocolHTTP)
	switch protocol {
	case ProtocolGRPC:
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	case ProtocolHTTP:
		if !perSignal { // the generic endpoint is a base URL; the signal path is appended (OTel specification)
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want %q or %q", protocol, ProtocolGRPC, ProtocolHTTP)
	}
}

// tracesExporter reads OTEL_TRACES_EXPORTER (a comma-separated list, empty meaning otlp): whether OTLP export
// is wanted. Only otlp and none are offered; any other exporter is refused rather than silently ignored.
func tracesExporter(v string) (bool, error) {
	otlp := strings.TrimSpace(v) == ""
	for _, e := range strings.Split(v, ",") {
		switch e = strings.ToLower(strings.TrimSpace(e)); e {
		case "", "none":
		case "otlp":
			otlp = true
		default:
			return false, fmt.Errorf("%w, not %q", ErrTracesExporter, e)
		}
	}
	return otlp, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
