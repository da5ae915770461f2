package usageapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestCreateOutcomes: a create that may have happened wraps ErrAmbiguousCreate (and still its cause);
// a refusal does not.
func TestCreateOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		answer    func(t *testing.T, w http.ResponseWriter)
		ambiguous bool
	}{
		{"lost answer", func(t *testing.T, w http.ResponseWriter) { dropConnection(t, w) }, true},
		{"503", func(_ *testing.T, w http.ResponseWriter) { w.WriteHeader(503) }, true},
		{"unreadable 201", func(_ *testing.T, w http.ResponseWriter) { w.WriteHeader(201); _, _ = w.Write([]byte("{")) }, true},
		{"empty 200", func(_ *testing.T, w http.ResponseWriter) { w.WriteHeader(200) }, true},
		{"null 201", func(_ *testing.T, w http.ResponseWriter) { w.WriteHeader(201); _, _ = w.Write([]byte("null")) }, true},
		{"html 200", func(_ *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>sign in</html>"))
		}, true},
		{"201 without id", func(_ *testing.T, w http.ResponseWriter) { writeJSON(w, 201, map[string]string{"status": "draft"}) }, true},
		{"301", func(_ *testing.T, w http.ResponseWriter) { w.Header().Set("Location", "/moved"); w.WriteHeader(301) }, true},
		{"400", func(_ *testing.T, w http.ResponseWriter) { writeJSON(w, 400, ErrorBody{ErrorCode: "VAL_001"}) }, false},
		{"429", func(_ *testing.T, w http.ResponseWriter) { w.WriteHeader(429) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { tc.answer(t, w) })
			c, _ := s.client(t)
			_, err := c.CreateFile(ctxT(t), CreateFileRequest{ExternalID: "k"})
			if err == nil || errors.Is(err, ErrAmbiguousCreate) != tc.ambiguous {
				t.Fatalf("err %v; want ambiguous %v", err, tc.ambiguous)
			}
			if st := StatusOf(err); tc.name == "503" && st != 503 {
				t.Errorf("status %d, want the cause's 503", st)
			}
		})
	}
}

// TestCreateCancelledInFlightIsAmbiguous: the context ends while Connect holds the request: it may have
// been served. A context that ended before the call sends nothing and is not ambiguous.
func TestCreateCancelledInFlightIsAmbiguous(t *testing.T) {
	arrived := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		close(arrived)
		<-r.Context().Done()
	})
	c, _ := s.client(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	go func() { <-arrived; cancel() }()
	_, err := c.CreateFile(ctx, CreateFileRequest{ExternalID: "k"})
	if !errors.Is(err, ErrAmbiguousCreate) || !errors.Is(err, context.Canceled) {
		t.Fatalf("in flight: %v, want ErrAmbiguousCreate and context.Canceled", err)
	}
	_, err = c.CreateFile(ctx, CreateFileRequest{ExternalID: "k"})
	if errors.Is(err, ErrAmbiguousCreate) || !errors.Is(err, context.Canceled) || len(s.requests()) != 1 {
		t.Fatalf("after the end: %v after %d requests; want context.Canceled, not ambiguous, nothing sent", err, len(s.requests()))
	}
}

// TestFindOrCreateReportsAnUnsettledCreate: the create's answer is lost and every list after it fails, so
// the call cannot tell whether the file exists: its error says so. A refused create does not.
func TestFindOrCreateReportsAnUnsettledCreate(t *testing.T) {
	lists := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		switch {
		case r.Method == "POST":
			dropConnection(t, w)
		case lists == 0:
			lists++
			w.Header().Set("Content-Range", "items 0-0/0")
			writeJSON(w, 200, []File{})
		default:
			w.WriteHeader(503)
		}
	})
	c, _ := srv.client(t, WithRetry(RetryPolicy{MaxAttempts: 3}))
	_, _, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if !errors.Is(err, ErrAmbiguousCreate) || StatusOf(err) != 503 {
		t.Fatalf("err %v; want ErrAmbiguousCreate wrapping the lookup's 503", err)
	}
}

func TestFindFilesRefusesAnIgnoredFilter(t *testing.T) {
	store, c := newFileStore(t)
	store.noFilter = true
	store.add("someone-else", time.Now())
	if _, err := c.FindFiles(ctxT(t), extID, WaitLag); !errors.Is(err, ErrFilterIgnored) {
		t.Fatalf("err %v, want ErrFilterIgnored", err)
	}
	if _, err := c.FindFiles(ctxT(t), ""); !errors.Is(err, ErrNoExternalID) {
		t.Fatalf("empty external id: %v", err)
	}
}
