package usageapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// DefaultBaseURL is the public Connect API.
const DefaultBaseURL = "https://api.connect.cloudblue.com/public/v1"

// Client calls the Connect Usage API. It is safe for concurrent use.
type Client struct {
	base      string       // base URL without trailing slash
	auth      string       // Authorization header value; never logged or printed
	secret    string       // the key part of auth, scrubbed from any server text we repeat
	http      *http.Client // transport wrapped with otelhttp
	plain     *http.Client // same transport without instrumentation, for signed-URL downloads
	userAgent string
	log       *slog.Logger
	retry     RetryPolicy
	clock     Clock
	tracer    trace.TracerProvider
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client; its transport (or http.DefaultTransport) is wrapped with
// otelhttp. The client is copied, not modified.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.plain = h } }

// WithRetry sets the retry policy of idempotent calls (see RetryPolicy for the defaults).
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithUserAgent replaces the User-Agent (default usagepipe/<module version>).
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithLogger sets the logger of retries and recoveries (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock replaces the wall clock of retry waits and polling (tests).
func WithClock(clock Clock) Option { return func(c *Client) { c.clock = clock } }

// WithTracerProvider sets the tracer provider of the HTTP spans (default: the global one).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *Client) { c.tracer = tp } }

// ErrConfig is wrapped by the errors of New.
var ErrConfig = errors.New("usageapi: bad client configuration")

// New returns a client of the API at baseURL (DefaultBaseURL if empty) authenticated by apiKey,
// "SU-…:…" or "ApiKey SU-…:…" (the prefix is added if missing).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	c := &Client{userAgent: defaultUserAgent(), log: slog.New(slog.DiscardHandler),
		retry: DefaultRetryPolicy, clock: wallClock{}, plain: &http.Client{}}
	for _, o := range opts {
		o(c)
	}
	var err error
	if c.base, err = parseBase(baseURL); err != nil {
		return nil, err
	}
	if c.auth, c.secret, err = authHeader(apiKey); err != nil {
		return nil, err
	}
	c.retry = c.retry.withDefaults()
	c.instrument()
	return c, nil
}

func (c *Client) instrument() {
	plain := *c.plain
	if plain.Transport == nil {
		plain.Transport = http.DefaultTransport
	}
	if c.tracer == nil {
		c.tracer = otel.GetTracerProvider()
	}
	traced := plain
	traced.Transport = otelhttp.NewTransport(plain.Transport, otelhttp.WithTracerProvider(c.tracer))
	traced.CheckRedirect = refuseRedirect
	c.plain, c.http = &plain, &traced
}

// refuseRedirect makes the API client follow no redirect: the 3xx itself is the answer (ErrRedirected).
// Following one would resend the request, and its Authorization header, to wherever the answer points
// (Go keeps the header for the same host on any port), and would turn a POST into a GET after a 301,
// 302 or 303. Signed-link downloads (the plain client) carry no API key and follow redirects.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func parseBase(raw string) (string, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%w: base URL must be an absolute http(s) URL without query", ErrConfig)
	}
	if u.User != nil { // never sent (the API key is), and a secret in every URL the client would print
		return "", fmt.Errorf("%w: base URL must not hold user info: the API key authenticates", ErrConfig)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// authHeader returns the Authorization value and its secret part. Errors never repeat the key.
func authHeader(key string) (header, secret string, err error) {
	fields := strings.Fields(key)
	if len(fields) > 0 && strings.EqualFold(fields[0], "ApiKey") {
		fields = fields[1:]
	}
	if len(fields) != 1 || strings.ContainsFunc(fields[0], func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return "", "", fmt.Errorf("%w: API key is empty or holds spaces or control characters", ErrConfig)
	}
	return "ApiKey " + fields[0], fields[0], nil
}

func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "usagepipe/" + v
}

// String describes the client without its key, so printing a Client cannot leak the secret.
func (c *Client) String() string { return "usageapi.Client{" + c.base + "}" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }
