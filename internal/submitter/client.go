package submitter

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// newClient builds the Connect client: otelhttp child spans under the caller's span, every request counted
// by result, and every retry counted (op, reason) and added to the current span as a "retry" event.
func newClient(o Options, tp trace.TracerProvider, ins *instruments, log *slog.Logger) (*usageapi.Client, error) {
	policy := o.Retry
	policy.OnRetry = func(ctx context.Context, ev usageapi.RetryEvent) {
		reason := retryReason(ev.Err)
		ins.retried(ctx, ev.Op, reason)
		trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(
			attribute.String("op", ev.Op), attribute.Int("attempt", ev.Attempt), attribute.String("reason", reason),
			attribute.String("wait", ev.Wait.String()), attribute.String("retry_after", ev.RetryAfter.String()),
			attribute.String("error", ev.Err.Error())))
	}
	h := countConnect(o.HTTPClient, o.ConnectURL, ins.connect)
	return usageapi.New(o.ConnectURL, o.ConnectAPIKey, usageapi.WithHTTPClient(h),
		usageapi.WithRetry(policy), usageapi.WithLogger(log), usageapi.WithTracerProvider(tp))
}

// retryReason classifies an error for the retries metric: the HTTP status ("429", "503", …), "network",
// "timeout" or "other".
func retryReason(err error) string {
	var apiErr *usageapi.APIError
	var netErr *usageapi.NetworkError
	switch {
	case errors.As(err, &apiErr):
		return strconv.Itoa(apiErr.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &netErr):
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "network"
	}
	return "other"
}

// retryAfter is the server's Retry-After hint carried by err, 0 if none.
func retryAfter(err error) time.Duration {
	var apiErr *usageapi.APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}
