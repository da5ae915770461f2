package usageapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// answerWith answers every request with status, content type (none if empty) and body.
func answerWith(status int, contentType, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const jsonType = "application/json"

// TestMalformedAnswers: every 2xx answer that is not a well-formed answer of the expected type is
// ErrMalformedAnswer with its detail, retryable, and nothing decoded is handed out.
func TestMalformedAnswers(t *testing.T) {
	file := func(c *Client) (any, error) { return c.GetFile(ctxT(t), "UF-1") }
	files := func(c *Client) (any, error) { return c.Files().Collect(ctxT(t)) }
	records := func(c *Client) (any, error) { return c.Records().Collect(ctxT(t)) }
	cases := []struct {
		name, contentType, body, reason string
		call                            func(*Client) (any, error)
	}{
		{"empty", jsonType, "", "empty body", file},
		{"empty without a content type", "", "", "empty body", file},
		{"blank", jsonType, " \n ", "empty body", file},
		{"null", jsonType, "null", "body is null", file},
		{"html", "text/html; charset=utf-8", "<html><body><h1>Sign in</h1></body></html>", "content type is not JSON", file},
		{"json sent as text", "text/plain", `{"id":"UF-1","status":"draft"}`, "content type is not JSON", file},
		{"a string", jsonType, `"UF-1"`, "not a JSON object", file},
		{"an array for an object", jsonType, `[]`, "not a JSON object", file},
		{"no id", jsonType, `{}`, "usage file without id", file},
		{"no status", jsonType, `{"id":"UF-1"}`, "usage file UF-1 without status", file},
		{"unknown status", jsonType, `{"id":"UF-1","status":"lost"}`, `status "lost", not one of the spec's`, file},
		{"wrong type", jsonType, `{"id":5,"status":"draft"}`, "not JSON of the expected shape", file},
		{"cut short", jsonType, `{"id":"UF-1","status":"dra`, "not JSON of the expected shape", file},
		{"list as an object", jsonType, `{"id":"UF-1","status":"draft"}`, "not a JSON array", files},
		{"list null", jsonType, `null`, "body is null", files},
		{"list empty", jsonType, ``, "empty body", files},
		{"list of null", jsonType, `[null]`, "item 0: usage file without id", files},
		{"list with a bad item", jsonType, `[{"id":"UF-1","status":"draft"},{"id":"UF-2"}]`, "item 1: usage file UF-2 without status", files},
		{"records without id", jsonType, `[{"usage":"1"}]`, "item 0: usage record without id", records},
		{"records as html", "text/html", `<html></html>`, "content type is not JSON", records},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, answerWith(200, tc.contentType, tc.body))
			c, _ := s.client(t, WithRetry(NoRetry))
			got, err := tc.call(c)
			var m *MalformedAnswerError
			if !errors.Is(err, ErrMalformedAnswer) || !errors.As(err, &m) {
				t.Fatalf("err %v, want ErrMalformedAnswer", err)
			}
			if !strings.Contains(m.Reason, tc.reason) || m.Status != 200 || m.Method != "GET" || m.ContentType != tc.contentType {
				t.Errorf("detail %+v, want reason %q, 200, GET, content type %q", m, tc.reason, tc.contentType)
			}
			if m.Op == "" || !strings.HasPrefix(m.Path, "/usage/") || !strings.Contains(err.Error(), m.Op+" GET "+m.Path) {
				t.Errorf("error %q does not name the operation and path", err)
			}
			if !Retryable(err) || !ambiguous(err) || StatusOf(err) != 0 {
				t.Errorf("Retryable %v, ambiguous %v, StatusOf %d: want an unknown outcome, retryable, no API status",
					Retryable(err), ambiguous(err), StatusOf(err))
			}
			if !isNil(got) {
				t.Errorf("a malformed answer was handed out: %+v", got)
			}
		})
	}
}

// isNil reports whether v, an answer of a call, holds nothing: a nil pointer or an empty slice.
func isNil(v any) bool {
	switch x := v.(type) {
	case *FileDetail:
		return x == nil
	case []File:
		return len(x) == 0
	case []Record:
		return len(x) == 0
	}
	return false
}

// TestMalformedAnswerIsRetried: a read answered null, then HTML, is retried until a well-formed answer.
func TestMalformedAnswerIsRetried(t *testing.T) {
	var n atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch n.Add(1) {
		case 1:
			answerWith(200, jsonType, "null")(w, r, body)
		case 2:
			answerWith(200, "text/html", "<html>proxy</html>")(w, r, body)
		default:
			writeJSON(w, 200, File{ID: "UF-1", Status: FileStatusPending})
		}
	})
	var ev events
	c, _ := s.client(t, WithRetry(RetryPolicy{OnRetry: ev.hook}))
	f, err := c.GetFile(ctxT(t), "UF-1")
	if err != nil || f.Status != FileStatusPending || n.Load() != 3 {
		t.Fatalf("GetFile = %+v, %v after %d requests; want the pending file after 3", f, err, n.Load())
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.evs) != 2 {
		t.Errorf("%d retry events, want 2", len(ev.evs))
	}
	for _, e := range ev.evs {
		if !errors.Is(e.Err, ErrMalformedAnswer) {
			t.Errorf("retry event %+v: want a malformed answer", e)
		}
	}
}

// TestMalformedAnswerHoldsNoSecret: a garbled page that echoes the API key does not leak it, even where
// the excerpt's cut falls inside it, and the excerpt is bounded.
func TestMalformedAnswerHoldsNoSecret(t *testing.T) {
	for _, at := range []int{0, maxExcerpt - 6, maxExcerpt - 1} {
		body := strings.Repeat("x", at) + testKey + strings.Repeat(" y", 500)
		s := newServer(t, answerWith(200, "text/html; key="+secret, body))
		c, _ := s.client(t, WithRetry(NoRetry))
		_, err := c.GetFile(ctxT(t), "UF-1")
		var m *MalformedAnswerError
		if !errors.As(err, &m) {
			t.Fatalf("err %v", err)
		}
		if len(m.Excerpt) > maxExcerpt+len("…") || len(m.ContentType) > maxContentType+len("…") {
			t.Errorf("excerpt of %d bytes, content type of %d", len(m.Excerpt), len(m.ContentType))
		}
		if strings.Contains(err.Error(), secret[:4]) {
			t.Errorf("secret at %d leaked (in part): %v", at, err)
		}
	}
}

// TestMalformedDownloads: a workbook download answered empty or with a page is malformed (and retried);
// for a signed link no excerpt is kept (a storage host may echo the signature).
func TestMalformedDownloads(t *testing.T) {
	for _, tc := range []struct{ contentType, body string }{
		{XLSXContentType, ""}, {"text/html", "<html>" + signature + "</html>"}, {jsonType, "null"},
	} {
		s := newServer(t, answerWith(200, tc.contentType, tc.body))
		c, _ := s.client(t, WithRetry(NoRetry))
		_, err := c.Download(ctxT(t), "/blob/x.xlsx?"+signature)
		var m *MalformedAnswerError
		if !errors.As(err, &m) || m.Excerpt != "" || strings.Contains(err.Error(), "SIGNATURE") {
			t.Errorf("Download answered %q %q: %v, want malformed without excerpt", tc.contentType, tc.body, err)
		}
		if _, err := c.DownloadChunk(ctxT(t), "UFC-1"); !errors.Is(err, ErrMalformedAnswer) {
			t.Errorf("DownloadChunk answered %q %q: %v, want malformed", tc.contentType, tc.body, err)
		}
	}
	s := newServer(t, answerWith(200, "", string(workbook)))
	c, _ := s.client(t, WithRetry(NoRetry))
	if got, err := c.Download(ctxT(t), "/blob/x.xlsx"); err != nil || string(got) != string(workbook) {
		t.Errorf("a workbook without a content type: %q, %v", got, err)
	}
}

// TestDeleteRuleAnswer204: an answer without a body where none is expected is not malformed.
func TestDeleteRuleAnswer204(t *testing.T) {
	s := newServer(t, answerWith(204, "", ""))
	c, _ := s.client(t, WithRetry(NoRetry))
	if err := c.DeleteRule(context.Background(), "PRD-1", "UIR-1"); err != nil {
		t.Fatal(err)
	}
}
