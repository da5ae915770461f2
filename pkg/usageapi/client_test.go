package usageapi

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

func TestNewAuthorization(t *testing.T) {
	for _, key := range []string{testKey, "ApiKey " + testKey, "apikey " + testKey, "  " + testKey + " "} {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			writeJSON(w, 200, File{ID: "UF-1", Status: FileStatusDraft})
		})
		c, err := New(s.URL, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetFile(ctxT(t), "UF-1"); err != nil {
			t.Fatal(err)
		}
		if got := s.requests()[0].Header.Get("Authorization"); got != "ApiKey "+testKey {
			t.Errorf("key %q sent as %q", key, got)
		}
	}
}

func TestNewRejectsBadConfigWithoutRepeatingTheKey(t *testing.T) {
	for _, tt := range []struct{ base, key string }{
		{"https://api.example.test", ""},
		{"https://api.example.test", "ApiKey "},
		{"https://api.example.test", "SU-1:abc\r\nX-Evil: 1"},
		{"ftp://api.example.test", testKey},
		{"/relative", testKey},
		{"https://api.example.test/?q=1", testKey},
		{"https://user:s3cr3tpw@api.example.test", testKey},
		{"https://s3cr3ttoken@api.example.test", testKey},
	} {
		_, err := New(tt.base, tt.key)
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("New(%q, …) = %v, want ErrConfig", tt.base, err)
		}
		if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New("", testKey)
	if err != nil {
		t.Fatal(err)
	}
	if c.base != DefaultBaseURL || !strings.HasPrefix(c.userAgent, "usagepipe/") || c.retry.MaxElapsedTime != 20*time.Second {
		t.Errorf("defaults: base %q, UA %q, retry %+v", c.base, c.userAgent, c.retry)
	}
}

type countingTransport struct{ n atomic.Int32 }

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ct.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestOptions(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, File{ID: "UF-1", Status: FileStatusDraft})
	})
	ct := &countingTransport{}
	hc := &http.Client{Transport: ct}
	c, _ := s.client(t, WithHTTPClient(hc), WithUserAgent("usagepipe-test/1"))
	if _, err := c.GetFile(ctxT(t), "UF-1"); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() != 1 {
		t.Error("the given HTTP client's transport was not used")
	}
	if hc.Transport != ct {
		t.Error("the given HTTP client was modified")
	}
	r := s.requests()[0]
	if r.Header.Get("User-Agent") != "usagepipe-test/1" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	if _, ok := c.http.Transport.(*otelhttp.Transport); !ok {
		t.Errorf("transport %T is not wrapped with otelhttp", c.http.Transport)
	}
}

func TestWaitFile(t *testing.T) {
	statuses := []FileStatus{FileStatusUploading, FileStatusProcessing, FileStatusProcessing, FileStatusReady}
	var n atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		i := min(int(n.Add(1))-1, len(statuses)-1)
		writeJSON(w, 200, File{ID: "UF-1", Status: statuses[i]})
	})
	c, clock := s.client(t)
	f, err := c.WaitFile(ctxT(t), "UF-1", nil, nil)
	if err != nil || f.Status != FileStatusReady {
		t.Fatalf("WaitFile = %v, %v", f, err)
	}
	if w := clock.Waits(); len(w) != 3 || len(s.requests()) != 4 {
		t.Errorf("waits %v over %d reads; want 3 waits, 4 reads", w, len(s.requests()))
	}
}

func TestWaitFileStops(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, File{ID: "UF-1", Status: FileStatusProcessing})
	})
	c, _ := s.client(t)
	poll := backoff.WithMaxRetries(&backoff.ZeroBackOff{}, 2)
	f, err := c.WaitFile(ctxT(t), "UF-1", func(s FileStatus) bool { return s == FileStatusReady }, poll)
	if !errors.Is(err, ErrWaitStopped) || f == nil || f.Status != FileStatusProcessing {
		t.Fatalf("WaitFile = %v, %v; want ErrWaitStopped with the last file", f, err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d reads, want 3", n)
	}
}
