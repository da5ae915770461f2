package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Load generator shape.
const (
	encodeAhead    = 256              // requests encoded ahead of their send time at most
	maxInFlight    = 512              // requests in flight at most; beyond, a request waits (its latency counts it)
	requestTimeout = 30 * time.Second // beyond ingest's 10 s publish timeout
	leadTime       = 200 * time.Millisecond
	mediaBatch     = "application/cloudevents-batch+json"
)

// loadgen is an open-loop load generator: requests are scheduled by the clock at a fixed rate, each
// request's latency is measured from its scheduled send time (so a stall of ingest, or of the generator
// itself, is counted, not hidden by fewer requests: no coordinated omission), and a request waits for no
// earlier one. Bodies are encoded ahead of their send time by one goroutine. Phases run one at a time.
type loadgen struct {
	log      *requestLog // one line per request; nil: none
	url, key string
	client   *http.Client
	gen      *generator
	enc      *encoder
	truth    *truth
	batch    int
	slots    chan struct{}
	bodies   sync.Pool
}

func newLoadgen(url, key string, gen *generator, enc *encoder, t *truth, batch int) *loadgen {
	tr := &http.Transport{MaxIdleConns: maxInFlight, MaxIdleConnsPerHost: maxInFlight, DisableCompression: true}
	return &loadgen{url: url + "/v1/events", key: key, client: &http.Client{Transport: tr, Timeout: requestTimeout},
		gen: gen, enc: enc, truth: t, batch: batch, slots: make(chan struct{}, maxInFlight)}
}

// request is one scheduled POST.
type request struct {
	at    time.Time
	sends []send
	body  *[]byte
}

// phase is what one phase of constant rate measured.
type phase struct {
	log        *requestLog
	mu         sync.Mutex
	requests   int
	events     int
	latency    []time.Duration // scheduled send → response, every request
	sendLag    []time.Duration // scheduled send → actually sent
	failures   int
	statuses   map[int]int
	rejected   int
	rejections []string
	elapsed    time.Duration
}

// run offers rate events/s for d and returns once every request it sent is answered.
func (l *loadgen) run(ctx context.Context, rate float64, d time.Duration) *phase {
	interval := time.Duration(float64(l.batch) / rate * float64(time.Second))
	n := max(int(d/interval), 1)
	start := time.Now().Add(leadTime)
	reqs := make(chan request, encodeAhead)
	go l.encode(ctx, start, interval, n, reqs)
	ph := &phase{statuses: map[int]int{}, log: l.log}
	var wg sync.WaitGroup
	for r := range reqs {
		if !sleepUntil(ctx, r.at) {
			break
		}
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-l.slots }()
			l.do(ctx, r, ph)
		})
	}
	for range reqs { // a cancelled run drains the encoder
	}
	wg.Wait()
	ph.elapsed = time.Since(start)
	return ph
}

// encode prepares the n requests of a phase, in schedule order.
func (l *loadgen) encode(ctx context.Context, start time.Time, interval time.Duration, n int, out chan<- request) {
	defer close(out)
	for k := range n {
		at := start.Add(time.Duration(k) * interval)
		sends := l.gen.batch(at, l.batch, make([]send, 0, l.batch))
		body, _ := l.bodies.Get().(*[]byte)
		if body == nil {
			body = new([]byte)
		}
		*body = l.enc.body((*body)[:0], sends)
		select {
		case out <- request{at: at, sends: sends, body: body}:
		case <-ctx.Done():
			return
		}
	}
}

// do sends one request and records its outcome; events of a 200 answer go to the truth.
func (l *loadgen) do(ctx context.Context, r request, ph *phase) {
	sent := time.Now()
	status, answer, err := l.post(ctx, *r.body)
	done := time.Now()
	l.bodies.Put(r.body)
	var counts answerCounts
	if err == nil && status == http.StatusOK {
		counts, err = parseAnswer(answer, len(r.sends))
	}
	if err == nil && status == http.StatusOK {
		l.truth.stored(counts.storedOf(r.sends), done)
	}
	ph.record(r, sent, done, status, err, counts)
}

// post sends a body and returns the status and answer; a transport error or timeout is status 0.
func (l *loadgen) post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", mediaBatch)
	req.Header.Set("Authorization", "Bearer "+l.key)
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

func (ph *phase) record(r request, sent, done time.Time, status int, err error, c answerCounts) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	ph.requests++
	ph.events += len(r.sends)
	ph.latency = append(ph.latency, done.Sub(r.at))
	ph.sendLag = append(ph.sendLag, sent.Sub(r.at))
	ph.log.write(r.at, sent, done, status, err)
	if err != nil || status != http.StatusOK {
		if err != nil {
			status = 0
		}
		ph.failures++
		ph.statuses[status]++
		return
	}
	ph.rejected += c.rejected
	if len(ph.rejections) < maxProblems {
		ph.rejections = append(ph.rejections, c.reasons...)
	}
}

// answerCounts are the counts of an ingest answer; when it rejected events, also which and why.
type answerCounts struct {
	accepted, duplicates, rejected int
	reasons                        []string
	rejectedAt                     map[int]bool // indexes of the rejected events
}

// storedOf returns the sends ingest stored: all of them unless some were rejected.
func (c answerCounts) storedOf(sends []send) []send {
	if c.rejected == 0 {
		return sends
	}
	var out []send
	for i, s := range sends {
		if !c.rejectedAt[i] {
			out = append(out, s)
		}
	}
	return out
}

// parseAnswer reads the counts ingest writes first in its answer ({"accepted":…,"duplicates":…,
// "rejected":…,"results":…}); the per-event results are decoded only when some event was rejected.
func parseAnswer(b []byte, n int) (answerCounts, error) {
	var c answerCounts
	rest := b
	for _, f := range []struct {
		prefix string
		v      *int
	}{{`{"accepted":`, &c.accepted}, {`,"duplicates":`, &c.duplicates}, {`,"rejected":`, &c.rejected}} {
		var ok bool
		if rest, ok = bytes.CutPrefix(rest, []byte(f.prefix)); !ok {
			return c, fmt.Errorf("ingest answer %.100q: want %s", b, f.prefix)
		}
		end := bytes.IndexByte(rest, ',')
		v, err := strconv.Atoi(string(rest[:max(end, 0)]))
		if end < 0 || err != nil {
			return c, fmt.Errorf("ingest answer %.100q: bad %s", b, f.prefix)
		}
		*f.v, rest = v, rest[end:]
	}
	if c.accepted+c.duplicates+c.rejected != n {
		return c, fmt.Errorf("ingest answered %d results for %d events", c.accepted+c.duplicates+c.rejected, n)
	}
	if c.rejected == 0 {
		return c, nil
	}
	return c, c.readRejections(b)
}

// readRejections decodes the per-event results of an answer that rejected events.
func (c *answerCounts) readRejections(b []byte) error {
	var ir events.IngestResponse
	if err := json.Unmarshal(b, &ir); err != nil {
		return fmt.Errorf("ingest answer: %w", err)
	}
	c.rejectedAt = map[int]bool{}
	for _, r := range ir.Results {
		if r.Status != events.StatusRejected {
			continue
		}
		c.rejectedAt[r.Index] = true
		if len(c.reasons) < maxProblems {
			c.reasons = append(c.reasons, fmt.Sprintf("%s (%s): %s", r.Reason, r.Field, r.Message))
		}
	}
	return nil
}

// sleepUntil sleeps until t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
