package usageapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// failing answers the first n requests with fail, then 200 with a file.
func failing(t *testing.T, n int32, fail func(w http.ResponseWriter, r *http.Request)) *server {
	var count atomic.Int32
	return newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if count.Add(1) <= n {
			fail(w, r)
			return
		}
		writeJSON(w, 200, File{ID: "UF-1", ExternalID: "k", Status: FileStatusReady})
	})
}

// events collects the retry hook's events.
type events struct {
	mu  sync.Mutex
	evs []RetryEvent
}

func (e *events) hook(_ context.Context, ev RetryEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func TestRetryAfterSecondsIsAFloor(t *testing.T) {
	s := failing(t, 2, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		writeJSON(w, 429, ErrorBody{ErrorCode: "RATE", Errors: []string{"slow down"}})
	})
	var evs events
	c, clock := s.client(t, WithRetry(RetryPolicy{OnRetry: evs.hook}))
	if _, err := c.GetFile(ctxT(t), "UF-1"); err != nil {
		t.Fatal(err)
	}
	waits := clock.Waits()
	if len(waits) != 2 || len(s.requests()) != 3 {
		t.Fatalf("waits %v, %d requests; want 2 waits, 3 requests", waits, len(s.requests()))
	}
	for i, w := range waits {
		// Without the hint the exponential waits would be ~200ms and ~400ms.
		if w < 7*time.Second {
			t.Errorf("wait %d = %v, want ≥ 7s (the Retry-After hint)", i, w)
		}
	}
	if len(evs.evs) != 2 || evs.evs[0].RetryAfter != 7*time.Second || evs.evs[0].Wait != waits[0] ||
		evs.evs[0].Op != "GetFile" || evs.evs[0].Attempt != 1 || evs.evs[1].Attempt != 2 || !IsRateLimited(evs.evs[0].Err) {
		t.Errorf("retry events %+v", evs.evs)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	var c *Client
	var clock *fakeClock
	s := failing(t, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", clock.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(503)
	})
	c, clock = s.client(t)
	if _, err := c.GetFile(ctxT(t), "UF-1"); err != nil {
		t.Fatal(err)
	}
	if w := clock.Waits(); len(w) != 1 || w[0] < 5*time.Second {
		t.Errorf("waits %v, want one ≥ 5s", w)
	}
}

func TestRetryAfterBeyondBudgetGivesUp(t *testing.T) {
	s := failing(t, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	})
	c, clock := s.client(t) // default budget 20s
	_, err := c.GetFile(ctxT(t), "UF-1")
	var e *APIError
	if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != time.Minute {
		t.Fatalf("err %v, want the 429 with its RetryAfter (for the caller to NakWithDelay)", err)
	}
	if len(clock.Waits()) != 0 || len(s.requests()) != 1 {
		t.Errorf("waited %v over %d requests; a hint beyond the budget must not be slept", clock.Waits(), len(s.requests()))
	}
}

func TestRetryBudget(t *testing.T) {
	s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c, clock := s.client(t)
	_, err := c.GetFile(ctxT(t), "UF-1")
	if StatusOf(err) != 503 {
		t.Fatalf("err %v, want the last 503", err)
	}
	var total time.Duration
	for _, w := range clock.Waits() {
		total += w
		if w > DefaultRetryPolicy.MaxInterval*3/2 {
			t.Errorf("wait %v above 1.5 × MaxInterval", w)
		}
	}
	if total > DefaultRetryPolicy.MaxElapsedTime || len(s.requests()) < 4 {
		t.Errorf("%d requests, waits %v (total %v); want several, total ≤ %v", len(s.requests()), clock.Waits(), total, DefaultRetryPolicy.MaxElapsedTime)
	}
}

func TestRetryMaxAttempts(t *testing.T) {
	s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	c, _ := s.client(t, WithRetry(RetryPolicy{MaxAttempts: 3}))
	if _, err := c.GetFile(ctxT(t), "UF-1"); StatusOf(err) != 500 {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c, clock := s.client(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	clock.never = true // a wait ends only through the context: proves the BackOff exposes it
	clock.onAfter = func(time.Duration) { cancel() }
	_, err := c.GetFile(ctx, "UF-1")
	if !errors.Is(err, context.Canceled) || StatusOf(err) != 503 {
		t.Errorf("err %v, want context.Canceled wrapping the last 503", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests after cancel, want 1", n)
	}
}

func TestDeadlineShorterThanWaitGivesUp(t *testing.T) {
	s := failing(t, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(429)
	})
	c, clock := s.client(t, WithRetry(RetryPolicy{MaxElapsedTime: 100 * time.Hour}))
	ctx, cancel := context.WithTimeout(ctxT(t), time.Hour)
	defer cancel()
	if _, err := c.GetFile(ctx, "UF-1"); StatusOf(err) != 429 {
		t.Errorf("err %v, want the 429 rather than a wait past the deadline", err)
	}
	if len(clock.Waits()) != 0 {
		t.Errorf("waited %v", clock.Waits())
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, ErrorBody{ErrorCode: "VAL_001", Errors: []string{"no"}})
	})
	c, _ := s.client(t)
	if _, err := c.GetFile(ctxT(t), "UF-1"); !IsBadRequest(err) {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests for a 400, want 1", n)
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	s := failing(t, 1, func(w http.ResponseWriter, r *http.Request) { dropConnection(t, w) })
	c, clock := s.client(t)
	f, err := c.GetFile(ctxT(t), "UF-1")
	if err != nil || f.ID != "UF-1" {
		t.Fatalf("GetFile = %v, %v", f, err)
	}
	if len(clock.Waits()) < 1 {
		t.Error("no wait before the retry")
	}
}

func TestNonIdempotentCallsAreNotRetried(t *testing.T) {
	calls := map[string]func(c *Client) error{
		"CreateFile": func(c *Client) error {
			_, err := c.CreateFile(ctxT(t), CreateFileRequest{ExternalID: "k"})
			return err
		},
		"CreateRule": func(c *Client) error {
			_, err := c.CreateRule(ctxT(t), "PRD-1", RuleRequest{Action: RuleActionAccept})
			return err
		},
		"ReprocessFile":   func(c *Client) error { _, err := c.ReprocessFile(ctxT(t), "UF-1"); return err },
		"RegenerateChunk": func(c *Client) error { _, err := c.RegenerateChunk(ctxT(t), "UFC-1"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
			c, _ := s.client(t)
			if err := call(c); StatusOf(err) != 503 {
				t.Fatal(err)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestCallBackOffIsFreshPerCall(t *testing.T) {
	// Two calls in a row each get the full budget: a shared, exhausted BackOff would stop the second.
	s := failing(t, 1<<30, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	c, _ := s.client(t, WithRetry(RetryPolicy{MaxAttempts: 2}))
	for range 2 {
		_, _ = c.GetFile(ctxT(t), "UF-1")
	}
	if n := len(s.requests()); n != 4 {
		t.Errorf("%d requests over two calls, want 4", n)
	}
}
