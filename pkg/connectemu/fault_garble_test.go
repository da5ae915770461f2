package connectemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func TestParseGarbledFaults(t *testing.T) {
	got, err := ParseFaults("empty, null*2, html~0.5, redirect, 307:http://moved.example/v1, commit-empty, " +
		"commit-null*forever, commit-html, commit-redirect:https://other.example/x?y=1, commit-308")
	if err != nil {
		t.Fatal(err)
	}
	want := []Fault{
		{Kind: FaultEmpty, Times: 1}, {Kind: FaultNull, Times: 2}, {Kind: FaultHTML, Probability: 0.5},
		{Kind: FaultRedirect, Status: 301, Times: 1},
		{Kind: FaultRedirect, Status: 307, Location: "http://moved.example/v1", Times: 1},
		{Kind: FaultEmpty, Served: true, Times: 1}, {Kind: FaultNull, Served: true, Times: -1},
		{Kind: FaultHTML, Served: true, Times: 1},
		{Kind: FaultRedirect, Status: 301, Location: "https://other.example/x?y=1", Served: true, Times: 1},
		{Kind: FaultRedirect, Status: 308, Served: true, Times: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fault %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"empty:1", "commit-reset", "commit-500", "commit-", "304", "redirect:/relative",
		"redirect:ftp://host/x", "commit-html:x"} {
		if _, err := ParseFaults(bad); !errors.Is(err, ErrFaultSpec) {
			t.Errorf("%q: %v, want ErrFaultSpec", bad, err)
		}
	}
	s := newTestServer(t, Options{})
	for _, f := range []Fault{{Kind: FaultRedirect, Status: 300}, {Kind: FaultRedirect, Location: "moved.example"}} {
		if err := s.SetFaults("files.get", f); !errors.Is(err, ErrFaultSpec) {
			t.Errorf("SetFaults(%+v): %v, want ErrFaultSpec", f, err)
		}
	}
}

// TestGarbledAnswersOverHTTP: each garbled answer is what it says, on a create; the request is served
// (one file made) only when the fault says Served; the log names the fault as the spec writes it.
func TestGarbledAnswersOverHTTP(t *testing.T) {
	cases := []struct {
		spec, label, contentType, body string
		status                         int
	}{
		{"empty", "empty", "application/json", "", 200},
		{"null", "null", "application/json", "null", 200},
		{"html", "html", "text/html; charset=utf-8", garbledPage, 200},
		{"redirect", "redirect", "", "", 301},
		{"307:http://moved.example/v1/files", "redirect", "", "", 307},
	}
	for _, tc := range cases {
		for _, served := range []bool{false, true} {
			spec, label := tc.spec, tc.label
			if served {
				spec, label = "commit-"+spec, "commit-"+label
			}
			t.Run(spec, func(t *testing.T) {
				var logs bytes.Buffer
				s := newTestServer(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				faults, err := ParseFaults(spec)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.SetFaults("files.create", faults...); err != nil {
					t.Fatal(err)
				}
				r := s.noFollow(t, "POST", "/public/v1/usage/files?x=1", createBody(t, "garbled"))
				if r.status != tc.status {
					t.Fatalf("status %d, want %d", r.status, tc.status)
				}
				if tc.status == 200 && (r.header.Get("Content-Type") != tc.contentType || string(r.body) != tc.body) {
					t.Errorf("answer %q %q, want %q %q", r.header.Get("Content-Type"), r.body, tc.contentType, tc.body)
				}
				if tc.status != 200 {
					want := "https://" + movedHost + "/public/v1/usage/files?x=1"
					if faults[0].Location != "" {
						want = faults[0].Location
					}
					if got := r.header.Get("Location"); got != want {
						t.Errorf("Location %q, want %q", got, want)
					}
				}
				if n := len(s.Files()); n != map[bool]int{false: 0, true: 1}[served] {
					t.Errorf("%d files made, want served=%v", n, served)
				}
				if !strings.Contains(logs.String(), "fault="+label+"\n") {
					t.Errorf("the log does not name the fault %s:\n%s", label, logs.String())
				}
				if r := s.noFollow(t, "GET", "/public/v1/usage/files", nil); r.status != 200 {
					t.Errorf("the next request: %d, want it served", r.status)
				}
			})
		}
	}
}

// noFollow sends a request with the test key and returns the answer as it comes: a redirect is not followed.
func (s *testServer) noFollow(t *testing.T, method, path string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+testKey)
	req.Header.Set("Content-Type", "application/json")
	client := *s.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func createBody(t *testing.T, externalID string) []byte {
	t.Helper()
	b, err := json.Marshal(usageapi.CreateFileRequest{ExternalID: externalID, Name: externalID,
		Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
