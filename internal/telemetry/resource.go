package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/usagepipe/usagepipe/internal/buildinfo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// ErrResourceAttributes is wrapped by the error of a malformed OTEL_RESOURCE_ATTRIBUTES.
var ErrResourceAttributes = errors.New("OTEL_RESOURCE_ATTRIBUTES: want key=value pairs separated by commas")

// serviceName is the worker's service.name: OTEL_SERVICE_NAME when set (the OTel specification gives it
// precedence), else the worker's own name.
func serviceName(opts Options) string {
	if name := strings.TrimSpace(opts.Getenv("OTEL_SERVICE_NAME")); name != "" {
		return name
	}
	return opts.Service
}

// newResource describes the worker: its build (service.version, which OTEL_RESOURCE_ATTRIBUTES may override),
// OTEL_RESOURCE_ATTRIBUTES and the service name, both read through opts.Getenv (not the process environment:
// several workers may share a process), and the SDK's attributes.
func newResource(ctx context.Context, opts Options, service string) (*resource.Resource, error) {
	attrs, err := resourceAttributes(opts.Getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return nil, err
	}
	version := semconv.ServiceVersion(buildinfo.Read().ServiceVersion())
	return resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(version), resource.WithAttributes(attrs...),
		resource.WithAttributes(semconv.ServiceName(service)))
}

// resourceAttributes parses "key1=value1,key2=value2" (values percent-encoded, as the specification allows).
func resourceAttributes(s string) ([]attribute.KeyValue, error) {
	var attrs []attribute.KeyValue
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q", ErrResourceAttributes, pair)
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrResourceAttributes, pair, err)
		}
		attrs = append(attrs, attribute.String(k, value))
	}
	return attrs, nil
}
