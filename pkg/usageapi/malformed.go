package usageapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"reflect"
	"strings"
)

// ErrMalformedAnswer is matched (errors.Is) by the error of a call whose 2xx answer is not a well-formed
// answer of the expected type: an empty body; `null`; a content type that is not JSON (an HTML page a proxy
// or a login portal answered); JSON that is not of the expected shape (an object where an object is due, an
// array for a list); or an object without what the spec and the client need of it (a usage file without
// `id` or with a status outside the spec's enum, a record without `id`, …: see wellFormed). For a workbook
// download: an empty body, or an HTML or JSON page. The error is a *MalformedAnswerError.
//
// Such an answer is an unknown outcome, like a lost one: the request may or may not have been served, and
// the client never hands out what it decoded. Retryable and the client's ambiguity rules treat it as a
// network failure after sending: reads and lists are retried; state transitions are retried and, once a
// retry is refused, confirmed by reading the object back; an upload reads the file to see whether it took
// effect; a create wraps ErrAmbiguousCreate (look the file up by external_id before creating again). The
// single-attempt calls (ReprocessFile, RegenerateChunk, CreateRule, CreateReconciliation,
// UploadReconciliation) return it: their outcome is unknown.
var ErrMalformedAnswer = errors.New("usageapi: malformed answer")

// MalformedAnswerError describes a 2xx answer that is not a well-formed answer of the expected type. It
// matches ErrMalformedAnswer. It holds no secret: the excerpt is bounded and scrubbed of the API key, and
// empty for signed links (a storage host's text may repeat the link's signature).
type MalformedAnswerError struct {
	Op          string // operation, e.g. "GetFile"
	Method      string // request method
	Path        string // request path, without query
	Status      int    // the 2xx status of the answer
	ContentType string // the answer's Content-Type, at most maxContentType bytes
	Reason      string // what is wrong, e.g. "empty body", "usage file without id"
	Excerpt     string // the body's first bytes (at most maxExcerpt), whitespace folded
}

// Limits of what a MalformedAnswerError repeats of the answer.
const (
	maxExcerpt     = 120
	maxContentType = 100
)

// Error returns e.g. `usageapi: GetFile GET /usage/files/UF-1: malformed answer 200 (text/html): content
// type is not JSON; body "<html> <h1>Welcome</h1>…"`.
func (e *MalformedAnswerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usageapi: %s %s %s: malformed answer %d", e.Op, e.Method, e.Path, e.Status)
	if e.ContentType != "" {
		b.WriteString(" (" + e.ContentType + ")")
	}
	b.WriteString(": " + e.Reason)
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; body %q", e.Excerpt)
	}
	return b.String()
}

// Unwrap makes the error match ErrMalformedAnswer.
func (e *MalformedAnswerError) Unwrap() error { return ErrMalformedAnswer }

// wellFormed is implemented by the answer types that must carry some fields: the ones the spec marks
// required or read-only (always written by the server) and the client acts on. It says what is missing.
type wellFormed interface{ wellFormed() error }

// checkAnswer checks a 2xx answer and decodes it into out: JSON of out's shape (an array when out points
// to a slice, an object otherwise), each object well-formed. With out nil, only a workbook download
// (r.binary) is checked; other answers without a body to read (a 204) pass.
func (c *Client) checkAnswer(r *request, resp *response, out any) error {
	var reason string
	switch {
	case out != nil:
		reason = decodeJSON(resp, out)
	case r.binary:
		reason = fileReason(resp)
	}
	if reason == "" {
		return nil
	}
	return c.malformed(r, resp, reason)
}

// decodeJSON decodes resp into out and returns what makes it malformed, "" if nothing.
func decodeJSON(resp *response, out any) string {
	body := bytes.TrimSpace(resp.body)
	want, shape := byte('{'), "a JSON object"
	if reflect.TypeOf(out).Elem().Kind() == reflect.Slice {
		want, shape = '[', "a JSON array"
	}
	switch {
	case len(body) == 0:
		return "empty body"
	case !isJSON(resp.header.Get("Content-Type")):
		return "content type is not JSON"
	case string(body) == "null":
		return "body is null"
	case body[0] != want:
		return "not " + shape
	}
	if err := json.Unmarshal(body, out); err != nil {
		return "not JSON of the expected shape: " + err.Error()
	}
	if err := checkFields(out); err != nil {
		return err.Error()
	}
	return ""
}

// checkFields runs wellFormed on out, or on each item when out points to a slice.
func checkFields(out any) error {
	if w, ok := out.(wellFormed); ok {
		return w.wellFormed()
	}
	v := reflect.ValueOf(out).Elem()
	if v.Kind() != reflect.Slice {
		return nil
	}
	for i := range v.Len() {
		if w, ok := v.Index(i).Addr().Interface().(wellFormed); ok {
			if err := w.wellFormed(); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	}
	return nil
}

// isJSON reports whether a Content-Type is JSON (application/json or any +json type). An answer without
// one is judged by its body.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// fileReason says what makes a workbook download malformed: an empty body, or a page (HTML or JSON) where
// a workbook is due.
func fileReason(resp *response) string {
	if len(resp.body) == 0 {
		return "empty body"
	}
	mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if mt == "text/html" || isJSON(mt) && mt != "" {
		return "a page, not a file"
	}
	return ""
}

// malformed builds the error of a malformed answer to r.
func (c *Client) malformed(r *request, resp *response, reason string) *MalformedAnswerError {
	e := &MalformedAnswerError{Op: r.op, Method: r.method, Path: r.path, Status: resp.status, Reason: c.scrub(reason)}
	e.ContentType = clipText(c.scrub(resp.header.Get("Content-Type")), maxContentType)
	if r.signedURL == "" {
		e.Excerpt = clipText(c.scrub(string(resp.body)), maxExcerpt)
	}
	return e
}
