package usageapi

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestRedirectsAreNotFollowed: Connect's address answers a redirect to another server (same host, another
// port: Go's client would keep the Authorization header for it). No request reaches that server, the call
// fails at once with ErrRedirected naming the target without its user info or query, and a create's
// outcome is unknown (ErrAmbiguousCreate), since whatever answered may have passed the request on.
func TestRedirectsAreNotFollowed(t *testing.T) {
	target := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, File{ID: "UF-9", Status: FileStatusDraft})
	})
	moved := strings.Replace(target.URL, "http://", "http://user:pw@", 1) + "/public/v1/moved?token=t0ken"
	calls := map[string]func(*Client) error{
		"GetFile": func(c *Client) error { _, err := c.GetFile(ctxT(t), "UF-1"); return err },
		"Files":   func(c *Client) error { _, err := c.Files().Collect(ctxT(t)); return err },
		"Create":  func(c *Client) error { _, err := c.CreateFile(ctxT(t), CreateFileRequest{ExternalID: "k"}); return err },
		"Submit":  func(c *Client) error { _, err := c.SubmitFile(ctxT(t), "UF-1"); return err },
		"Update": func(c *Client) error {
			_, err := c.UpdateFile(ctxT(t), "UF-1", UpdateFileRequest{Note: "n"})
			return err
		},
		"Download": func(c *Client) error { _, err := c.DownloadChunk(ctxT(t), "UFC-1"); return err },
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for name, call := range calls {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				http.Redirect(w, r, moved, status)
			})
			c, _ := s.client(t)
			err := call(c)
			if !errors.Is(err, ErrRedirected) || StatusOf(err) != status || Retryable(err) {
				t.Fatalf("%d %s: %v (status %d, retryable %v); want ErrRedirected, not retryable", status, name, err, StatusOf(err), Retryable(err))
			}
			if errors.Is(err, ErrAmbiguousCreate) != (name == "Create") {
				t.Errorf("%d %s: ambiguous create %v", status, name, errors.Is(err, ErrAmbiguousCreate))
			}
			text := err.Error()
			if !strings.Contains(text, "redirect to "+target.URL+"/public/v1/moved not followed") ||
				strings.Contains(text, "t0ken") || strings.Contains(text, "pw") {
				t.Errorf("%d %s: error %q, want the target without user info or query", status, name, text)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d %s: %d requests to Connect's address, want 1 (no retry)", status, name, n)
			}
		}
	}
	if reqs := target.requests(); len(reqs) != 0 {
		t.Fatalf("the redirect target received %d requests, the first with Authorization %q", len(reqs), reqs[0].Header.Get("Authorization"))
	}
	checkGoFollowsWithAuthorization(t, target, moved)
}

// checkGoFollowsWithAuthorization shows what the client prevents: Go's default client follows the redirect
// and sends the Authorization header to the target (same host name, another port).
func checkGoFollowsWithAuthorization(t *testing.T, target *server, moved string) {
	t.Helper()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, moved, http.StatusMovedPermanently)
	})
	req, _ := http.NewRequestWithContext(ctxT(t), "POST", s.URL+"/public/v1/usage/files", bytes.NewReader([]byte("{}")))
	req.Header.Set("Authorization", "ApiKey "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := target.requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Header.Get("Authorization") != "ApiKey "+testKey {
		t.Fatalf("Go's default client: %d requests at the target (%+v); the test expects it to follow with the key", len(reqs), reqs)
	}
}

// TestRedirectWithoutLocation: a 3xx without Location is still a redirect error.
func TestRedirectWithoutLocation(t *testing.T) {
	s := newServer(t, answerWith(302, "", ""))
	c, _ := s.client(t)
	_, err := c.GetFile(ctxT(t), "UF-1")
	if !errors.Is(err, ErrRedirected) || !strings.Contains(err.Error(), "redirect without a usable Location") {
		t.Fatalf("err %v", err)
	}
}
