package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// ackingBus acknowledges every message at once, so BenchmarkHandlerCPU500 measures ingest's own CPU
// (decode, validate, packets, response) without JetStream. It is for the benchmark only.
type ackingBus struct{ seq atomic.Uint64 }

func (a *ackingBus) PublishBatch(_ context.Context, msgs []bus.Msg) ([]bus.PubAck, error) {
	acks := make([]bus.PubAck, len(msgs))
	for i := range acks {
		acks[i].Seq = a.seq.Add(1)
	}
	return acks, nil
}

func (a *ackingBus) Ready(context.Context) error { return nil }

func (a *ackingBus) Connected() bool { return true }

// StreamCreated says the stream has existed since the Unix epoch: no event is older than the pipeline.
func (a *ackingBus) StreamCreated(context.Context, string) (time.Time, error) {
	return time.Unix(0, 1), nil
}

const benchCatalogYAML = `
products:
  - id: PRD-100-200-300
    schema: QT
    currency: EUR
    contracts: [CRD-10001]
    marketplaces: [MP-91673]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 48h
    items:
      - {mpn: STORAGE-GB-HOURS, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE-PEAK-GB, precision: decimal(2), aggregation: max}
      - {mpn: API-REQUESTS, precision: integer, aggregation: count}
`

// realisticBodies returns count request bodies of n events each, as `usagepipe bench ingest` sends them
// (internal/eventgen's fleet over 300 subscriptions, times within the last hour).
func realisticBodies(tb testing.TB, count, n int) [][]byte {
	catalog, err := events.ParseCatalog([]byte(benchCatalogYAML))
	if err != nil {
		tb.Fatal(err)
	}
	ms := eventgen.Meters(catalog, func(*events.Product) []string {
		subs := make([]string, 300)
		for i := range subs {
			subs[i] = eventgen.Subscription(1000 + i)
		}
		return subs
	})
	now := time.Now().UTC()
	gen := eventgen.New(eventgen.Fleet(eventgen.Options{Seed: 1, IDPrefix: "evt-00-"}))
	return gen.Bodies(ms, count, n, func(i int) time.Time { return now.Add(-time.Duration(i%3600) * time.Second) })
}

// BenchmarkHandlerCPU500 serves POST /v1/events with 500 new realistic events through the whole handler
// (otelhttp, decode, validate, packets, response) against a bus that acknowledges at once.
func BenchmarkHandlerCPU500(b *testing.B) { benchHandlerCPU(b, 0) }

// BenchmarkHandlerCPU500Resends is BenchmarkHandlerCPU500 with 5 % of each request's events resent from the
// request before (a producer resending single events among new ones, as `bench pipeline` does): they are
// remembered, answered duplicate and left out of the packets.
func BenchmarkHandlerCPU500Resends(b *testing.B) { benchHandlerCPU(b, 20) }

// benchHandlerCPU serves requests of 500 events, every resendEvery-th one (0: none) resent from the request
// before, the others new.
func benchHandlerCPU(b *testing.B, resendEvery int) {
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{Service: "ingest", Getenv: func(string) string { return "" }, LogOutput: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown()
	catalog, err := events.ParseCatalog([]byte(benchCatalogYAML))
	if err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Partitions: 16, AllowAnonymous: true}, &ackingBus{}, catalog, tel)
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	body := realisticBodies(b, 1, 500)[0]
	ids := idOffsets(body)
	b.ReportAllocs()
	i := 0
	cpu := processCPU()
	for b.Loop() {
		stampIDs(body, ids, i) // new ids each iteration, so every event is new
		if resendEvery > 0 && i > 0 {
			for j := i % resendEvery; j < len(ids); j += resendEvery { // positions that were new in request i-1
				stampIDs(body, ids[j:j+1], i-1)
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", MediaBatch)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusMultiStatus {
			b.Fatalf("status %d: %.300s", w.Code, w.Body)
		}
		if resent := bytes.Count(w.Body.Bytes(), []byte(`"duplicate"`)); i > 0 && resendEvery > 0 && resent == 0 {
			b.Fatalf("request %d: no event answered duplicate: %.300s", i, w.Body)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(500*b.N), "ns/event")
	reportCPU(b, cpu, 500)
}

// idOffsets returns the offsets of the first byte of every "id" value in body.
func idOffsets(body []byte) []int {
	var offsets []int
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`"id":"`))
		if j < 0 {
			return offsets
		}
		i += j + len(`"id":"`)
		offsets = append(offsets, i)
	}
}

// stampIDs overwrites the first 8 bytes of every id with iter.
func stampIDs(body []byte, offsets []int, iter int) {
	digits := fmt.Sprintf("%08d", iter)
	for _, o := range offsets {
		copy(body[o:o+8], digits)
	}
}

// processCPU is the CPU time (user + system) the test process has used, GC included: under a loaded machine
// it is a steadier measure than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU used since start per op (and per event when events > 0).
func reportCPU(b *testing.B, start time.Duration, events int) {
	cpu := float64(processCPU()-start) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	if events > 0 {
		b.ReportMetric(cpu/float64(events), "cpu-ns/event")
	}
}
