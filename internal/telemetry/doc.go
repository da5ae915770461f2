// Package telemetry sets up observability for one usagepipe worker: OpenTelemetry tracing configured from the
// standard OTEL_* variables, the W3C trace-context and baggage propagators, a Prometheus registry served at
// /metrics (with an OpenTelemetry meter provider that reports into the same registry), and a JSON slog logger
// that adds trace_id and span_id from the context of each record.
//
// # Model
//
// [Setup] builds a [Telemetry] for one worker; the worker's name (or OTEL_SERVICE_NAME, which the OTel
// specification gives precedence) is the OTel service.name and the log's "service" field, and
// OTEL_RESOURCE_ATTRIBUTES adds resource attributes; both are read through Options.Getenv. Nothing is
// exported unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER is otlp (or unset); "none" turns export off and
// any other exporter is refused. Spans are still created, so trace ids still propagate to logs and to
// downstream messages. OTEL_EXPORTER_OTLP_PROTOCOL (or its _TRACES_ variant) chooses "grpc" or
// "http/protobuf" (the default, as in the OTel specification). The other exporter variables (headers,
// timeout, compression, certificates, insecure) are read by the OTLP exporters themselves, from the process
// environment.
//
// The OTel error handler is global too. It is installed once per process and logs with the first worker's
// logger, unless the process owner called [SetErrorLogger] (usagepipe dev does): a later Setup never takes
// it over.
//
// Setup installs the propagators globally (otel.SetTextMapPropagator), because HTTP middleware reads them from
// there (internal/bus carries trace context in NATS headers with its own W3C propagator); it does not replace
// the global tracer or meter providers, so several workers can share one process (usagepipe dev). Pass
// [Telemetry.TracerProvider] and [Telemetry.MeterProvider] to the instrumentation you use.
//
// Telemetry is never on the correctness path: spans queued when the process is killed are lost.
//
// # Concurrency
//
// A Telemetry is safe for concurrent use. [Telemetry.Shutdown] flushes spans and must be called once, last.
package telemetry
