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

// TestRestartDuringIngestLosesNoAcknowledgedEvent restarts JetStream while concurrent producers send, twice and
// some request was hit by a restart (answered 503 or failed, and sent again), so the test cannot pass without
// crossing one; producers retry a batch (the same body) until it is answered 200. Every event reported
// accepted or duplicate must then be in the stream exactly once.
func TestRestartDuringIngestLosesNoAcknowledgedEvent(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4, PublishTimeout: 20 * time.Second})
	const senders, perBatch = 4, 25
	ctx := testContext(t)
	p := &producers{url: s.http.URL, acked: map[events.Key]int{}, progress: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for sender := range senders {
		wg.Go(func() {
			if err := p.produce(ctx, sender, perBatch); err != nil {
				errs <- err
			}
		})
	}
	for restart := 0; restart < 2 || p.retries.Load() == 0; restart++ {
		if restart == 20 {
			t.Fatal("20 restarts and no request was hit by one")
		}
		for range senders { // let some batches through before each restart
			select {
			case <-p.progress:
			case <-ctx.Done():
				t.Fatal("producers made no progress")
			}
		}
		if err := s.nats.Restart(); err != nil {
			t.Fatalf("restart %d: %v", restart, err)
		}
	}
	<-p.progress // and some after the last
	p.stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := storedKeys(s.readStored(t))
	t.Logf("%d events acknowledged, %d retried requests", len(p.acked), p.retries.Load())
	for key, n := range p.acked {
		if stored[key] != 1 || n != 1 {
			t.Errorf("acknowledged event %v: stored %d times, acknowledged %d", key, stored[key], n)
		}
	}
	if len(stored) != len(p.acked) {
		t.Errorf("%d events stored, %d acknowledged", len(stored), len(p.acked))
	}
}

// producers send batches of unique events until stop, each retried until 200, and record every key
// acknowledged (by count: a key is in one batch only) and every request they had to repeat.
type producers struct {
	url      string
	stop     atomic.Bool
	retries  atomic.Int64
	progress chan struct{}
	mu       sync.Mutex
	acked    map[events.Key]int
}

func (p *producers) produce(ctx context.Context, sender, perBatch int) error {
	for b := 0; !p.stop.Load(); b++ {
		var batch []ev
		for i := range perBatch {
			batch = append(batch, goodEvent(fmt.Sprintf("s%d-b%d-e%d", sender, b, i), asset(i%7)))
		}
		body, err := jsonBody(batch)
		if err != nil {
			return err
		}
		r, err := p.postUntilStored(ctx, body)
		if err != nil {
			return fmt.Errorf("sender %d batch %d: %w", sender, b, err)
		}
		p.mu.Lock()
		for _, res := range r.body.Results {
			if res.Status == events.StatusAccepted || res.Status == events.StatusDuplicate {
				p.acked[events.Key{Source: res.Source, ID: res.ID}]++
			}
		}
		p.mu.Unlock()
		select {
		case p.progress <- struct{}{}:
		default:
		}
	}
	return nil
}

// postUntilStored retries on 503 and transport errors, as a producer would.
func (p *producers) postUntilStored(ctx context.Context, body []byte) (reply, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			p.retries.Add(1)
		}
		r, err := postTo(ctx, p.url, ingest.MediaBatch, body)
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
