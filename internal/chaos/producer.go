package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Producer shape.
const (
	batchEvents     = 500                    // events per request at most
	senders         = 4                      // concurrent requests
	dispatchEvery   = 50 * time.Millisecond  // how often due sends are batched
	requestTimeout  = 30 * time.Second       // one request, beyond ingest's 10s publish timeout
	retryBackoff    = 100 * time.Millisecond // first wait before a retry...
	retryBackoffMax = 2 * time.Second        // ...doubling up to this
	maxRejections   = 50                     // rejections described in full
)

// producer sends a workload through ingest as a real producer does: on schedule, in batches, and every batch
// that is not confirmed (network error, timeout, 429, 5xx) again, with the same events, until it is.
type producer struct {
	w      *Workload
	urls   []string
	client *http.Client
	rng    *rand.Rand // dispatcher only

	requests, retries, confirmed   atomic.Int64
	accepted, duplicates, rejected atomic.Int64
	held                           atomic.Int64 // rejections of held-back events as unknown_product: expected

	mu         sync.Mutex
	rejections []string
}

func newProducer(w *Workload, urls []string, seed uint64) *producer {
	return &producer{w: w, urls: urls, rng: rand.New(rand.NewPCG(seed, 0x70726f6475636572)),
		client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}}
}

// run sends every planned send and returns once all are confirmed, or with ctx's error.
func (p *producer) run(ctx context.Context) error {
	work := make(chan []int, senders*2)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for b := range work {
				p.deliver(ctx, i, b)
			}
		})
	}
	err := p.dispatch(ctx, work)
	close(work)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// dispatch batches the sends that are due, in schedule order, shuffled within a batch.
func (p *producer) dispatch(ctx context.Context, work chan<- []int) error {
	sends, next := p.w.Sends, 0
	t := time.NewTicker(dispatchEvery)
	defer t.Stop()
	for next < len(sends) {
		elapsed, due := time.Since(p.w.Start), next
		for due < len(sends) && sends[due].At <= elapsed {
			due++
		}
		for next < due {
			end := min(next+batchEvents, due)
			b := make([]int, 0, end-next)
			for _, s := range sends[next:end] {
				b = append(b, s.Event)
			}
			p.rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
			select {
			case work <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			next = end
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// deliver posts one batch until ingest answers it, rotating over the ingest instances between attempts.
func (p *producer) deliver(ctx context.Context, worker int, batch []int) {
	body := p.encode(batch)
	wait := retryBackoff
	for attempt := 0; ; attempt++ {
		url := p.urls[(worker+attempt)%len(p.urls)] + "/v1/events"
		resp, retry := p.post(ctx, url, body, len(batch))
		if !retry {
			p.account(batch, resp)
			return
		}
		if ctx.Err() != nil {
			return
		}
		p.retries.Add(1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
		wait = min(2*wait, retryBackoffMax)
	}
}

// encode is the request body of a batch of the workload's events.
func (p *producer) encode(batch []int) []byte {
	evs := make([]events.Event, len(batch))
	for i, ev := range batch {
		evs[i] = p.w.Events[ev]
	}
	return eventgen.AppendBatch(make([]byte, 0, len(batch)*360), evs)
}

// post sends one request. It returns the per-event answer, or retry when the batch must be sent again. An
// answer that is neither (a permanent error) comes back as a response whose results reject every event.
func (p *producer) post(ctx context.Context, url string, body []byte, n int) (events.IngestResponse, bool) {
	p.requests.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return rejectAll(n, err.Error()), false
	}
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	resp, err := p.client.Do(req)
	if err != nil {
		return events.IngestResponse{}, true
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return events.IngestResponse{}, true
	}
	var ir events.IngestResponse
	if err := json.Unmarshal(data, &ir); err != nil || len(ir.Results) != n {
		return rejectAll(n, fmt.Sprintf("ingest answered %s: %.200s", resp.Status, data)), false
	}
	return ir, false
}

func rejectAll(n int, why string) events.IngestResponse {
	ir := events.IngestResponse{Rejected: n, Results: make([]events.Result, n)}
	for i := range ir.Results {
		ir.Results[i] = events.Result{Index: i, Status: events.StatusRejected, Message: why}
	}
	return ir
}

// account counts an answered batch's results.
func (p *producer) account(batch []int, ir events.IngestResponse) {
	p.confirmed.Add(int64(len(batch)))
	for _, r := range ir.Results {
		switch r.Status {
		case events.StatusAccepted:
			p.accepted.Add(1)
		case events.StatusDuplicate:
			p.duplicates.Add(1)
		default:
			p.reject(batch, r)
		}
	}
}

func (p *producer) reject(batch []int, r events.Result) {
	if r.Index >= 0 && r.Index < len(batch) && r.Reason == events.ReasonUnknownProduct &&
		p.w.Events[batch[r.Index]].Data.Product == p.w.HeldProduct {
		p.held.Add(1) // ingest keeps it; the replay phase bills it
		return
	}
	p.rejected.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.rejections) >= maxRejections {
		return
	}
	id := "?"
	if r.Index >= 0 && r.Index < len(batch) {
		id = p.w.Events[batch[r.Index]].ID
	}
	p.rejections = append(p.rejections, fmt.Sprintf("event %s: %s %s %s", id, r.Reason, r.Field, r.Message))
}
