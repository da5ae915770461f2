package submitter

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Results of a Connect API request (usagepipe_submitter_connect_requests_total{result}): what an operator
// acts on differs for each. A wrong or revoked key shows as unauthorized or forbidden.
var connectResults = []string{"ok", "unauthorized", "forbidden", "rate_limited", "client_error", "server_error", "network_error"}

// connectResult classifies one answer (or a transport error: code 0).
func connectResult(code int) string {
	switch {
	case code == 0:
		return "network_error"
	case code < 400:
		return "ok"
	case code == http.StatusUnauthorized:
		return "unauthorized"
	case code == http.StatusForbidden:
		return "forbidden"
	case code == http.StatusTooManyRequests:
		return "rate_limited"
	case code < 500:
		return "client_error"
	}
	return "server_error"
}

// countingTransport counts each request to the Connect API (URLs under base; a download from a presigned
// link elsewhere is not Connect's answer) by result.
type countingTransport struct {
	base     http.RoundTripper
	apiBase  string
	requests metric.Int64Counter
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if strings.HasPrefix(req.URL.String(), t.apiBase) {
		code := 0
		if err == nil {
			code = resp.StatusCode
		}
		t.requests.Add(req.Context(), 1, metric.WithAttributes(attribute.String("result", connectResult(code))))
	}
	return resp, err
}

// countConnect returns a copy of h whose requests to apiBase are counted.
func countConnect(h *http.Client, apiBase string, requests metric.Int64Counter) *http.Client {
	c := *h
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = countingTransport{base: base, apiBase: strings.TrimRight(apiBase, "/"), requests: requests}
	return &c
}
