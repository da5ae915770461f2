package usageapitest

import (
	"cmp"
	"net/http"
	"net/url"
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
