package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ShutdownTimeout bounds how long [Telemetry.Shutdown] waits for spans to be exported.
const ShutdownTimeout = 5 * time.Second

// Options configures [Setup]. Only Service is required.
type Options struct {
	// Service is the worker's name ("ingest", "aggregator", …): OTel service.name and the log's "service"
	// field, unless OTEL_SERVICE_NAME overrides it.
	Service string
	// Getenv reads the OTEL_* variables usagepipe interprets (endpoints, protocol, OTEL_TRACES_EXPORTER,
	// OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES); nil means os.Getenv. The OTLP
	// exporters read their own options (headers, timeout, certificates) from the process environment.
	Getenv func(string) string
	// SpanExporter, when set, receives every span synchronously as it ends, instead of any OTLP exporter.
	// Tests pass tracetest.NewInMemoryExporter().
	SpanExporter sdktrace.SpanExporter
	// LogOutput receives the JSON log lines; nil means os.Stderr.
	LogOutput io.Writer
	// LogLevel is the minimum level logged; nil means Info.
	LogLevel slog.Leveler
}

// Telemetry is one worker's logger, tracer provider, meter provider and Prometheus registry.
type Telemetry struct {
	// Logger writes JSON lines with the service name, and trace_id/span_id when the context carries a span.
	Logger *slog.Logger
	// Registry is served by [Telemetry.MetricsHandler]; register Prometheus collectors on it.
	Registry *prometheus.Registry

	tracerProvider *sdktrace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
}

// Setup builds the telemetry of one worker from opts and the OTEL_* variables, and installs the W3C
// trace-context and baggage propagators globally. Call [Telemetry.Shutdown] before the process exits.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	if opts.Service == "" {
		return nil, errors.New("telemetry setup: service name is empty")
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	service := serviceName(opts)
	logger := NewLogger(opts.LogOutput, service, opts.LogLevel)
	res, err := newResource(ctx, opts, service)
	if err != nil {
		return nil, fmt.Errorf("telemetry setup: resource: %w", err)
	}
	tp, err := newTracerProvider(ctx, opts, res)
	if err != nil {
		return nil, fmt.Errorf("telemetry setup: %w", err)
	}
	reg, mp, err := newMetrics(res, service)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("telemetry setup: metrics: %w", err), tp.Shutdown(ctx))
	}
	otel.SetTextMapPropagator(Propagator())
	claimErrorLogger(logger)
	return &Telemetry{Logger: logger, Registry: reg, tracerProvider: tp, meterProvider: mp}, nil
}

// Propagator returns the W3C trace-context and baggage propagator that every usagepipe worker uses.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// TracerProvider is the worker's tracer provider (sampling parent-based, always on).
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracerProvider }

// Tracer returns a tracer of the worker's provider; name is the instrumenting package's import path.
func (t *Telemetry) Tracer(name string) trace.Tracer { return t.tracerProvider.Tracer(name) }

// MeterProvider is the worker's OTel meter provider; its instruments appear on /metrics.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.meterProvider }

// Shutdown flushes and stops the tracer and meter providers, waiting at most [ShutdownTimeout] on a fresh
// context (the caller's is usually cancelled by then).
func (t *Telemetry) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := errors.Join(t.tracerProvider.Shutdown(ctx), t.meterProvider.Shutdown(ctx))
	if err != nil {
		return fmt.Errorf("telemetry shutdown: %w", err)
	}
	return nil
}
