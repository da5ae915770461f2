package usageapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a non-2xx answer of Connect. Code and Errors come from the body
// {"error_code", "errors"}; when the body is not that JSON, Errors holds its text (trimmed).
// Match it with errors.As, or with errors.Is against the sentinels below.
type APIError struct {
	Status     int           // HTTP status code
	Code       string        // error_code, e.g. "VAL_001", "AUTH_001"; may be empty
	Errors     []string      // errors, or the body text when it was not JSON
	Method     string        // request method
	Path       string        // request path, without query
	RetryAfter time.Duration // the Retry-After hint of a 429/503 answer, 0 if none
}

// Error returns e.g. `usageapi: POST /usage/files/UF-1/submit: 400 VAL_001: status must be ready`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usageapi: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if len(e.Errors) > 0 {
		b.WriteString(": " + strings.Join(e.Errors, "; "))
	}
	return b.String()
}

// Is matches the status sentinels (ErrNotFound, …), and ErrRedirected for any 3xx.
func (e *APIError) Is(target error) bool {
	if target == ErrRedirected {
		return e.Status >= 300 && e.Status < 400
	}
	s, ok := target.(statusSentinel)
	return ok && s.status == e.Status
}

// ErrRedirected is matched by the *APIError of a 3xx answer. The client follows no redirect: Connect's
// API does not redirect, so a 3xx means the base URL is wrong (http for https, an old host) or something
// else answered for Connect. It is not retryable (the same request meets it again); the error names the
// target (without user info or query). A create answered 3xx wraps ErrAmbiguousCreate as well.
var ErrRedirected = errors.New("usageapi: redirect not followed")

// statusSentinel is a sentinel error standing for one HTTP status.
type statusSentinel struct {
	status int
	text   string
}

func (s statusSentinel) Error() string { return s.text }

// Sentinels matched by an *APIError of the same status with errors.Is.
var (
	ErrBadRequest   error = statusSentinel{400, "usageapi: bad request"}  // illegal transition, invalid body or filter
	ErrUnauthorized error = statusSentinel{401, "usageapi: unauthorized"} // missing or wrong API key (AUTH_001)
	ErrForbidden    error = statusSentinel{403, "usageapi: forbidden"}    // the token lacks the module permission
	ErrNotFound     error = statusSentinel{404, "usageapi: not found"}    // no such object
	ErrRateLimited  error = statusSentinel{429, "usageapi: rate limited"} // too many requests; see APIError.RetryAfter
)

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsBadRequest reports whether err is a 400 answer (Connect's answer to an illegal transition).
func IsBadRequest(err error) bool { return errors.Is(err, ErrBadRequest) }

// IsUnauthorized reports whether err is a 401 answer.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether err is a 403 answer.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsRateLimited reports whether err is a 429 answer.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Retryable reports whether repeating the request could succeed: network failures, bodies cut
// short, malformed 2xx answers (ErrMalformedAnswer), 429 and 5xx. Other 4xx answers, redirects (3xx:
// ErrRedirected), cancelled contexts, local errors and network failures that a repeat meets again
// (PermanentNetwork: a certificate or TLS failure, a host name that does not exist) are permanent.
// Whether a retry is *safe* is a separate question: see the client's retry rules.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrMalformedAnswer) {
		return true
	}
	var e *APIError
	if errors.As(err, &e) {
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	var n *NetworkError
	return errors.As(err, &n) && !PermanentNetwork(err)
}

// NetworkError is a failure to exchange a request and its complete answer (connection refused
// or reset, timeout, body cut short). The request may or may not have reached Connect.
type NetworkError struct {
	Method string
	Path   string
	Err    error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("usageapi: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ambiguous reports whether a request that failed with err may have taken effect on the server:
// a network failure after sending, a malformed 2xx answer, or a 5xx. (429 means it was refused; it
// counts as not ambiguous.)
func ambiguous(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status >= 500
	}
	return Retryable(err)
}
