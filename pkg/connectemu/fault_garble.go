package connectemu

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The garbled answers of FaultEmpty, FaultNull, FaultHTML and FaultRedirect are what a proxy, a gateway or
// a misconfigured URL in front of Connect has been seen to answer instead of Connect's own answer.

// movedHost is where a redirect points by default: a .invalid name never resolves (RFC 2606), so a client
// that followed it would fail rather than reach anything.
const movedHost = "connect-moved.invalid"

// garbledPage is the HTML page of FaultHTML: a portal's sign-in page, as a proxy answers when a session ends.
const garbledPage = `<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><h1>Your session has expired</h1><p>Please sign in again to continue.</p></body></html>
`

// writeGarbled answers f's garbled answer in place of the request's own.
func writeGarbled(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f.Kind {
	case FaultEmpty:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case FaultNull:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("null"))
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(garbledPage))
	case FaultRedirect:
		http.Redirect(w, r, redirectTarget(r, f), cmp.Or(f.Status, http.StatusMovedPermanently))
	}
}

// redirectTarget is f.Location, or the request's path and query on movedHost.
func redirectTarget(r *http.Request, f Fault) string {
	if f.Location != "" {
		return f.Location
	}
	u := url.URL{Scheme: "https", Host: movedHost, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	return u.String()
}

// label names the fault in logs (fault=<label>): its kind, "commit-" before the garbled answers served
// first, as the spec writes them.
func (f Fault) label() string {
	if f.Served && garbled(f.Kind) {
		return "commit-" + string(f.Kind)
	}
	return string(f.Kind)
}

// garbled reports whether kind replaces the answer with a garbled 2xx or a redirect.
func garbled(kind FaultKind) bool {
	return kind == FaultEmpty || kind == FaultNull || kind == FaultHTML || kind == FaultRedirect
}

// redirectStatuses are the statuses of FaultRedirect, by the spec's token.
var redirectStatuses = map[string]int{"redirect": 301, "301": 301, "302": 302, "303": 303, "307": 307, "308": 308}

// parseGarbled parses the garbled answers, with the commit- prefix when served first; ok is false for any
// other kind (commit-drop included).
func parseGarbled(f Fault, kind, arg string) (Fault, bool, error) {
	if rest, ok := strings.CutPrefix(kind, "commit-"); ok && rest != "drop" && rest != "then-drop" {
		kind, f.Served = rest, true
	}
	status, redirect := redirectStatuses[kind]
	switch {
	case kind == "empty" || kind == "null" || kind == "html":
		if arg != "" {
			return f, true, fmt.Errorf("%s takes no argument", kind)
		}
		f.Kind = FaultKind(kind)
	case redirect:
		f.Kind, f.Status, f.Location = FaultRedirect, status, arg
		return f, true, f.check()
	case f.Served:
		return f, true, errors.New("commit- goes before drop, empty, null, html or a redirect")
	default:
		return f, false, nil
	}
	return f, true, nil
}

// check reports what makes f unusable: a redirect's status or Location.
func (f Fault) check() error {
	if f.Kind != FaultRedirect {
		return nil
	}
	if !slices.Contains([]int{0, 301, 302, 303, 307, 308}, f.Status) {
		return fmt.Errorf("a redirect's status is 301, 302, 303, 307 or 308, not %d", f.Status)
	}
	if f.Location == "" {
		return nil
	}
	u, err := url.Parse(f.Location)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("a redirect's Location must be an absolute http(s) URL, not %q", f.Location)
	}
	return nil
}
