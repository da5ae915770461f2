package usageapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// request is one API request, rebuilt for every attempt from these immutable parts.
type request struct {
	op          string // operation name for logs and retry events, e.g. "SubmitFile"
	method      string
	path        string // escaped path below the base URL, e.g. /usage/files/UF-1/submit
	query       string // raw query string, already escaped
	body        []byte
	contentType string
	accept      string // Accept header; application/json if empty
	signedURL   string // absolute signed link (Download): replaces base+path, sent without Authorization
	binary      bool   // the answer is a workbook: it must not be empty or a page (see checkAnswer)
}

// response is a complete answer: the body is read before the connection is released.
type response struct {
	status int
	header http.Header
	body   []byte
}

// emptyBody is sent to action endpoints that take no input: {} rather than null or nothing,
// because Connect answered 500 to a submit whose body was null.
var emptyBody = struct{}{}

func newRequest(op, method, path string, body any) (*request, error) {
	r := &request{op: op, method: method, path: path}
	if body == nil {
		return r, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, fmt.Errorf("usageapi: %s: encoding body: %w", op, err)
	}
	r.body, r.contentType = bytes.TrimSuffix(b.Bytes(), []byte("\n")), "application/json"
	return r, nil
}

// pathOf joins escaped segments: pathOf("usage", "files", id) = /usage/files/<escaped id>.
func pathOf(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteString("/" + url.PathEscape(s))
	}
	return b.String()
}

func (c *Client) httpRequest(ctx context.Context, r *request) (*http.Request, error) {
	u := c.base + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	if r.signedURL != "" {
		u = r.signedURL
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(r.body))
	if err != nil {
		return nil, fmt.Errorf("usageapi: %s %s: %w", r.method, r.path, err)
	}
	if r.body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.signedURL == "" {
		req.Header.Set("Authorization", c.auth)
	}
	req.Header.Set("Accept", cmp.Or(r.accept, "application/json"))
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}

// send performs one attempt and reads the whole answer.
func (c *Client) send(ctx context.Context, r *request) (*response, error) {
	req, err := c.httpRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(ctx, r, req)
	if err != nil {
		return nil, networkError(ctx, r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, networkError(ctx, r.method, r.path, fmt.Errorf("reading answer: %w", err))
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// roundTrip sends req through the instrumented client, or, for a signed link, through the plain
// one inside a span of our own whose url.full has no query (the query is the link's credential).
func (c *Client) roundTrip(ctx context.Context, r *request, req *http.Request) (*http.Response, error) {
	if r.signedURL == "" {
		return c.http.Do(req)
	}
	ctx, span := c.tracer.Tracer(tracerName).Start(ctx, "GET", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", req.Method),
			attribute.String("url.full", r.path), attribute.String("server.address", req.URL.Hostname())))
	defer span.End()
	resp, err := c.plain.Do(req.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, "request failed")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, strconv.Itoa(resp.StatusCode))
	}
	return resp, nil
}

// tracerName names the tracer of the spans this package makes itself.
const tracerName = "github.com/usagepipe/usagepipe/pkg/usageapi"

// networkError classifies a transport failure: the caller's context ending is not a network
// error (and not retryable); anything else is. The *url.Error layer is dropped because its text
// holds the full URL, which for signed downloads holds a credential.
func networkError(ctx context.Context, method, path string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("usageapi: %s %s: %w", method, path, cerr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &NetworkError{Method: method, Path: path, Err: err}
}

// do performs one attempt: a 2xx answer is checked and decoded into out (a *MalformedAnswerError if it
// is not a well-formed answer of out's type, and then out must not be used), anything else (a 3xx
// included: no redirect is followed) becomes an *APIError.
func (c *Client) do(ctx context.Context, r *request, out any) (*response, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return resp, c.apiError(r, resp)
	}
	if err := c.checkAnswer(r, resp, out); err != nil {
		return resp, err
	}
	return resp, nil
}

// call performs r with retries (for idempotent requests).
func (c *Client) call(ctx context.Context, r *request, out any) (*response, error) {
	return retry(ctx, c, r.op, func(int) (*response, error) { return c.do(ctx, r, out) })
}

// callJSON builds a JSON request, performs it with retries and decodes the answer into a new T.
func callJSON[T any](ctx context.Context, c *Client, op, method, path string, body any) (*T, error) {
	r, err := newRequest(op, method, path, body)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if _, err := c.call(ctx, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// onceJSON is callJSON without retries, for requests that are not idempotent.
func onceJSON[T any](ctx context.Context, c *Client, op, method, path string, body any) (*T, error) {
	r, err := newRequest(op, method, path, body)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if _, err := c.do(ctx, r, out); err != nil {
		return nil, err
	}
	return out, nil
}
