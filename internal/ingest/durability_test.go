package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestRestartDuringIngestLosesNoAcknowledgedEvent restarts JetStream twice while concurrent producers send;
// producers retry a batch (the same body) until it is answered 200. Every event reported accepted or
// duplicate must then be in the stream.
func TestRestartDuringIngestLosesNoAcknowledgedEvent(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4, PublishTimeout: 20 * time.Second})
	const senders, batches, perBatch = 4, 30, 25
	ctx := testContext(t)
	acked := make(chan events.Key, senders*batches*perBatch)
	progress := make(chan struct{}, senders*batches)
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for sender := range senders {
		wg.Go(func() {
			if err := produce(ctx, s.http.URL, sender, batches, perBatch, acked, progress); err != nil {
				errs <- err
			}
		})
	}
	for restart := range 2 {
		for range senders * 3 { // let some batches through before each restart
			select {
			case <-progress:
			case <-ctx.Done():
				t.Fatal("producers made no progress")
			}
		}
		if err := s.nats.Restart(); err != nil {
			t.Fatalf("restart %d: %v", restart, err)
		}
	}
	wg.Wait()
	close(acked)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := storedKeys(s.readStored(t))
	t.Logf("%d events stored once or more, %d retried requests", len(stored), retries.Load())
	n := 0
	for key := range acked {
		n++
		if stored[key] == 0 {
			t.Errorf("acknowledged event %v is not stored", key)
		}
	}
	if want := senders * batches * perBatch; n != want {
		t.Errorf("want %d acknowledged events, have %d", want, n)
	}
}

// produce sends batches of unique events, retrying each until 200, and reports every acknowledged key.
func produce(ctx context.Context, url string, sender, batches, perBatch int, acked chan<- events.Key, progress chan<- struct{}) error {
	for b := range batches {
		var batch []ev
		for i := range perBatch {
			batch = append(batch, goodEvent(fmt.Sprintf("s%d-b%d-e%d", sender, b, i), fmt.Sprintf("AS-%d", i%7)))
		}
		body, err := jsonBody(batch)
		if err != nil {
			return err
		}
		r, err := postUntilStored(ctx, url, body)
		if err != nil {
			return fmt.Errorf("sender %d batch %d: %w", sender, b, err)
		}
		for _, res := range r.body.Results {
			if res.Status == events.StatusAccepted || res.Status == events.StatusDuplicate {
				acked <- events.Key{Source: res.Source, ID: res.ID}
			}
		}
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	return nil
}

// retries counts the requests postUntilStored repeated.
var retries atomic.Int64

// postUntilStored retries on 503 and transport errors, as a producer would.
func postUntilStored(ctx context.Context, url string, body []byte) (reply, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			retries.Add(1)
		}
		r, err := postTo(ctx, url, ingest.MediaBatch, body)
		switch {
		case err == nil && r.code == http.StatusOK:
			return r, nil
		case err == nil && r.code != http.StatusServiceUnavailable:
			return r, fmt.Errorf("unexpected %d: %s", r.code, r.raw)
		case ctx.Err() != nil:
			return r, ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUnavailableJetStreamAnswers503AndReportsNothing: with the connection down, a request is answered 503 at
// once: the publish timeout is an hour, so waiting for it would outlast the test.
func TestUnavailableJetStreamAnswers503AndReportsNothing(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2, PublishTimeout: time.Hour, RetryAfter: time.Second})
	if r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, goodEvent("before", asset(1)))); r.code != http.StatusOK {
		t.Fatalf("before the outage: %d %s", r.code, r.raw) // the reporting start is now known
	}
	s.nats.Shutdown()
	for ctx := testContext(t); s.conn.Connected() && ctx.Err() == nil; { // until the client has noticed
		time.Sleep(5 * time.Millisecond)
	}
	r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, goodEvent("x", asset(1))))
	if r.code != http.StatusServiceUnavailable || r.retryAfter != "1" {
		t.Fatalf("want 503 with Retry-After 1, have %d %q: %s", r.code, r.retryAfter, r.raw)
	}
	if len(r.body.Results) != 0 {
		t.Errorf("a 503 reports results: %s", r.raw)
	}
}

func TestReadinessFollowsJetStream(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	waitReady(t, s.http.URL, http.StatusOK)
	s.nats.Shutdown()
	waitReady(t, s.http.URL, http.StatusServiceUnavailable)
	if err := s.nats.Restart(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s.http.URL, http.StatusOK)
	if r := healthz(t, s.http.URL); r != http.StatusOK {
		t.Errorf("healthz: %d", r)
	}
}

// waitReady polls /readyz until it answers want (the test's deadline is the safety net).
func waitReady(t *testing.T, base string, want int) {
	t.Helper()
	ctx := testContext(t)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("/readyz never answered %d", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthz(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
