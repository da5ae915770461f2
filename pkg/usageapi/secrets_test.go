package usageapi

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const (
	secret    = "s3cr3tt0ken"       // the key part of testKey
	signature = "sig=SIGNATURE0000" // the credential of a signed link
)

// TestNoSecretInErrorsLogsOrSpans runs calls that fail, retry and download, and then searches
// every error text, log line and span (name, status, attributes, events) for the key and the
// signature of the signed link.
func TestNoSecretInErrorsLogsOrSpans(t *testing.T) {
	var gets atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/blob/"):
			if r.Header.Get("Authorization") != "" {
				t.Error("the API key was sent to a signed link")
			}
			w.WriteHeader(403)
			fmt.Fprintf(w, "<Error>Signature did not match: %s</Error>", r.URL.RawQuery)
		case r.URL.Path == "/public/v1/usage/files/UF-1" && gets.Add(1) == 1:
			w.WriteHeader(503) // retried: logs a line
		case r.URL.Path == "/public/v1/usage/files/UF-1":
			writeJSON(w, 200, FileDetail{File: File{ID: "UF-1", Status: FileStatusDraft}, UsageFileURI: "/blob/UF-1.xlsx?" + signature})
		default: // a server that echoes the credentials it was sent
			writeJSON(w, 401, ErrorBody{ErrorCode: "AUTH_001", Errors: []string{"bad key " + r.Header.Get("Authorization")}})
		}
	})
	var logs bytes.Buffer
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c, _ := s.client(t, WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithTracerProvider(tp))

	var texts []string
	f, err := c.GetFile(ctxT(t), "UF-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Download(ctxT(t), f.UsageFileURI)
	if StatusOf(err) != 403 {
		t.Fatalf("download err %v, want 403", err)
	}
	texts = append(texts, err.Error())
	_, err = c.GetRecord(ctxT(t), "UR-1")
	if !IsUnauthorized(err) {
		t.Fatalf("err %v, want 401", err)
	}
	texts = append(texts, err.Error(), logs.String())
	if !strings.Contains(logs.String(), "retrying") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("the test did not exercise logs and echoes: logs %q, err %q", logs.String(), err)
	}
	spans := rec.Ended()
	if len(spans) < 4 {
		t.Fatalf("%d spans, want one per request", len(spans))
	}
	for _, sp := range spans {
		texts = append(texts, sp.Name(), sp.Status().Description)
		for _, a := range sp.Attributes() {
			texts = append(texts, string(a.Key)+"="+a.Value.String())
		}
		for _, e := range sp.Events() {
			for _, a := range e.Attributes {
				texts = append(texts, a.Value.String())
			}
		}
	}
	all := strings.Join(texts, "\n")
	for _, leak := range []string{secret, "SIGNATURE0000"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked:\n%s", leak, all)
		}
	}
	if !strings.Contains(all, "url.full="+s.URL+"/blob/UF-1.xlsx") {
		t.Errorf("no span for the download (with its query removed):\n%s", all)
	}
}

func TestDownloadSignedLink(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Header.Get("Authorization") != "" || r.URL.RawQuery != signature {
			t.Errorf("download sent Authorization %q, query %q", r.Header.Get("Authorization"), r.URL.RawQuery)
		}
		w.Write(workbook)
	})
	c, _ := s.client(t)
	for _, link := range []string{s.URL + "/blob/x.xlsx?" + signature, "/blob/x.xlsx?" + signature} {
		got, err := c.Download(ctxT(t), link)
		if err != nil || !bytes.Equal(got, workbook) {
			t.Errorf("Download(%q) = %q, %v", link, got, err)
		}
	}
	if _, err := c.Download(ctxT(t), "file:///etc/passwd"); err == nil {
		t.Error("a non-http link was fetched")
	}
}

func TestDownloadsOfTheAPI(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Header.Get("Authorization") == "" || r.Header.Get("Accept") != XLSXContentType {
			t.Errorf("API download headers %v", r.Header)
		}
		w.Header().Set("Content-Type", XLSXContentType)
		w.Write(workbook)
	})
	c, _ := s.client(t)
	for name, get := range map[string]func() ([]byte, error){
		"chunk":     func() ([]byte, error) { return c.DownloadChunk(ctxT(t), "UFC-1") },
		"processed": func() ([]byte, error) { return c.ReconciliationProcessedFile(ctxT(t), "RC-1") },
		"uploaded":  func() ([]byte, error) { return c.ReconciliationUploadedFile(ctxT(t), "RC-1") },
	} {
		if got, err := get(); err != nil || !bytes.Equal(got, workbook) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	var paths []string
	for _, r := range s.requests() {
		paths = append(paths, r.Path)
	}
	for _, want := range []string{"/public/v1/usage/chunks/UFC-1/download", "/public/v1/usage/reconciliations/RC-1/processedfile",
		"/public/v1/usage/reconciliations/RC-1/uploadedfile"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("no request to %s in %v", want, paths)
		}
	}
}

func TestPrintingAClientHidesTheKey(t *testing.T) {
	c, err := New("", testKey)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "c", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logs.String()} {
		if strings.Contains(s, secret) || !strings.Contains(s, DefaultBaseURL) {
			t.Errorf("printed as %q", s)
		}
	}
}
