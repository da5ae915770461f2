package usageapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxErrorText bounds the body text an APIError repeats when the body is not the JSON error shape.
const maxErrorText = 512

// apiError decodes a non-2xx answer. Server text is scrubbed of the API key, in case a proxy
// or server echoes request headers.
func (c *Client) apiError(r *request, resp *response) *APIError {
	e := &APIError{Status: resp.status, Method: r.method, Path: r.path}
	e.RetryAfter = retryAfter(resp.header.Get("Retry-After"), c.clock.Now())
	if r.signedURL != "" {
		return e // a storage host's text may repeat the link's signature: keep none of it
	}
	if resp.status >= 300 && resp.status < 400 {
		e.Errors = []string{c.scrub(redirectText(c.base+r.path, resp.header.Get("Location")))}
		return e
	}
	var body ErrorBody
	if json.Unmarshal(resp.body, &body) == nil && (body.ErrorCode != "" || len(body.Errors) > 0) {
		e.Code, e.Errors = body.ErrorCode, body.Errors
	} else if text := clipText(c.scrub(string(resp.body)), maxErrorText); text != "" {
		e.Errors = []string{text}
	}
	e.Code = c.scrub(e.Code)
	for i := range e.Errors {
		e.Errors[i] = c.scrub(e.Errors[i])
	}
	return e
}

// redirectText explains a 3xx answer to a request of from: where it pointed (no user info, query or
// fragment: they may hold credentials) and why it was not followed.
func redirectText(from, location string) string {
	const why = " not followed: check the Connect URL (the API does not redirect; a proxy or another server answered)"
	base, _ := url.Parse(from)
	to, err := url.Parse(strings.TrimSpace(location))
	if location == "" || err != nil || base == nil {
		return "redirect without a usable Location" + why
	}
	to = base.ResolveReference(to)
	to.User, to.RawQuery, to.ForceQuery, to.Fragment, to.RawFragment = nil, "", false, "", ""
	return "redirect to " + clipText(to.String(), maxErrorText) + why
}

// clipText is server text fit to repeat: valid UTF-8, at most n bytes (then "…"), whitespace folded.
// Scrub before clipping, so that no part of a secret survives the cut.
func clipText(text string, n int) string {
	s := strings.TrimSpace(strings.ToValidUTF8(text, "?"))
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// scrub removes the API key from server text: the whole key, and its secret part (after the colon of
// "SU-…:secret") when that is long enough not to be a common word.
func (c *Client) scrub(s string) string {
	if c.secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.secret, "[REDACTED]")
	if _, token, ok := strings.Cut(c.secret, ":"); ok && len(token) >= minScrubbedToken {
		s = strings.ReplaceAll(s, token, "[REDACTED]")
	}
	return s
}

// minScrubbedToken is the shortest secret part of a key that scrub removes on its own.
const minScrubbedToken = 8

// retryAfter parses a Retry-After value: delay seconds or an HTTP date. Bad or past values give 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(s, 0), 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
