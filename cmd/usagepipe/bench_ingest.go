package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// benchIngest measures, against one embedded JetStream (file storage, temporary store), (a) raw async
// publish of 256-byte messages, one JetStream message each with its own Nats-Msg-Id, through bus.PublishBatch
// in windows, and (b) usagepipe ingest over HTTP on loopback, batches of realistic events, until every
// response is 200 (durably stored). The last line is the RESULT line.
func benchIngest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("bench ingest", getenv)
	f.SetOutput(stdout)
	numEvents := f.Int("events", 200_000, "events to ingest over HTTP")
	batchSize := f.Int("batch", 500, "events per HTTP request")
	clients := f.Int("concurrency", 4, "concurrent HTTP clients")
	rawMsgs := f.Int("raw-messages", 200_000, "256-byte messages for the raw publish baseline")
	window := f.Int("window", 1000, "messages per bus.PublishBatch call in the raw baseline")
	rawPublishers := f.Int("raw-concurrency", 4, "concurrent publishers in the raw baseline")
	partitions := f.Int("partitions", 16, "event partitions")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the ingest phase to this file")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *numEvents < 1 || *batchSize < 1 || *clients < 1 || *rawMsgs < 1 || *window < 1 || *rawPublishers < 1 {
		return errors.New("bench ingest: every count must be positive")
	}
	env, err := startBenchEnv(ctx, *partitions)
	if err != nil {
		return err
	}
	defer env.close()
	cpu := processCPU()
	raw, err := benchRawPublish(ctx, env.conn, *rawMsgs, *window, *rawPublishers, *partitions)
	if err != nil {
		return err
	}
	rawCPU := processCPU() - cpu
	fmt.Fprintf(stdout, "raw publish: %d msgs of 256 B, windows of %d, %d publishers: %.0f msgs/s, %.1f µs CPU per msg\n",
		*rawMsgs, *window, *rawPublishers, raw, perItem(rawCPU, *rawMsgs))
	bodies, err := benchBodies(*numEvents, *batchSize)
	if err != nil {
		return err
	}
	stopProfile, err := startProfile(*cpuProfile)
	if err != nil {
		return err
	}
	cpu = processCPU()
	ing, err := benchHTTPIngest(ctx, env, bodies, *numEvents, *clients)
	ingCPU := processCPU() - cpu
	stopProfile()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ingest: %d events in batches of %d, %d clients: %.0f events/s, %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per event\n",
		*numEvents, *batchSize, *clients, ing.eventsPerSec, ing.requestsPerSec, ing.p50ms, ing.p99ms, perItem(ingCPU, *numEvents))
	fmt.Fprintf(stdout, "RESULT ingest_events_per_s=%.0f raw_publish_msgs_per_s=%.0f ratio=%.2f p99_ms=%.1f\n",
		ing.eventsPerSec, raw, ing.eventsPerSec/raw, ing.p99ms)
	return nil
}

// processCPU is the CPU time (user + system) this process has used: the embedded server, clients and ingest.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func perItem(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// startProfile starts a CPU profile into path ("" = none) and returns its stop function.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// benchEnv is the embedded JetStream, a provisioned connection and the bench catalog.
type benchEnv struct {
	dir        string
	nats       *natsembed.Server
	conn       *bus.Conn
	catalog    *events.Catalog
	partitions int
}

func startBenchEnv(ctx context.Context, partitions int) (*benchEnv, error) {
	dir, err := os.MkdirTemp("", "usagepipe-bench-ingest-")
	if err != nil {
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	env := &benchEnv{dir: dir, partitions: partitions}
	if env.nats, err = natsembed.Start(natsembed.Options{StoreDir: dir}); err != nil {
		env.close()
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	if env.conn, err = bus.Connect(ctx, bus.Config{URL: env.nats.URL(), Name: "bench", Log: slog.New(slog.DiscardHandler)}); err != nil {
		env.close()
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	if err = env.conn.Provision(ctx, bus.Topology{Partitions: partitions}); err == nil {
		env.catalog, err = events.ParseCatalog([]byte(benchCatalog))
	}
	if err != nil {
		env.close()
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	return env, nil
}

func (e *benchEnv) close() {
	if e.conn != nil {
		e.conn.Close()
	}
	if e.nats != nil {
		e.nats.Shutdown()
	}
	os.RemoveAll(e.dir)
}

// benchRawPublish publishes n 256-byte messages, each with a unique Nats-Msg-Id, and returns messages/s.
func benchRawPublish(ctx context.Context, conn *bus.Conn, n, window, publishers, partitions int) (float64, error) {
	payload := make([]byte, 256)
	rand.Read(payload)
	var next atomic.Int64
	start := time.Now()
	err := runWorkers(publishers, func(worker int) error {
		for {
			from := int(next.Add(int64(window))) - window
			if from >= n {
				return nil
			}
			msgs := make([]bus.Msg, 0, window)
			for i := from; i < min(from+window, n); i++ {
				h := bus.Header{bus.HeaderMsgID: {fmt.Sprintf("raw-%d", i)}}
				msgs = append(msgs, bus.Msg{Subject: fmt.Sprintf("usage.events.%d", i%partitions), Header: h, Data: payload})
			}
			if _, err := conn.PublishBatch(ctx, msgs); err != nil {
				return fmt.Errorf("bench ingest: raw publish: %w", err)
			}
		}
	})
	return float64(n) / time.Since(start).Seconds(), err
}

// runWorkers runs fn on n goroutines and returns the first error.
func runWorkers(n int, fn func(worker int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Go(func() { errs[w] = fn(w) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ingestFigures are the measured HTTP ingest rates and latencies.
type ingestFigures struct {
	eventsPerSec, requestsPerSec, p50ms, p99ms float64
}

// benchHTTPIngest serves an ingest Service on loopback and sends pre-built batches from concurrent clients.
func benchHTTPIngest(ctx context.Context, env *benchEnv, bodies [][]byte, numEvents, clients int) (ingestFigures, error) {
	tel, err := telemetry.Setup(ctx, telemetry.Options{Service: "ingest", Getenv: func(string) string { return "" }, LogOutput: io.Discard})
	if err != nil {
		return ingestFigures{}, err
	}
	defer tel.Shutdown()
	svc, err := ingest.New(ingest.Config{Partitions: env.partitions}, env.conn, env.catalog, tel)
	if err != nil {
		return ingestFigures{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ingestFigures{}, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go ingest.Serve(sctx, ln, svc.Handler(), 10*time.Second)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}}
	return sendBodies(ctx, client, "http://"+ln.Addr().String()+"/v1/events", bodies, numEvents, clients)
}

// sendBodies posts every body once, from clients goroutines, and measures rates and latency percentiles.
func sendBodies(ctx context.Context, client *http.Client, url string, bodies [][]byte, numEvents, clients int) (ingestFigures, error) {
	latencies := make([]time.Duration, len(bodies))
	var next atomic.Int64
	start := time.Now()
	err := runWorkers(clients, func(int) error {
		for i := int(next.Add(1)) - 1; i < len(bodies); i = int(next.Add(1)) - 1 {
			t0 := time.Now()
			if err := postBatch(ctx, client, url, bodies[i]); err != nil {
				return err
			}
			latencies[i] = time.Since(t0)
		}
		return nil
	})
	elapsed := time.Since(start).Seconds()
	if err != nil {
		return ingestFigures{}, err
	}
	slices.Sort(latencies)
	ms := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return ingestFigures{float64(numEvents) / elapsed, float64(len(bodies)) / elapsed, ms(0.50), ms(0.99)}, nil
}

func postBatch(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ingest.MediaBatch)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("bench ingest: post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		reply, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("bench ingest: want 200, have %d: %.300s", resp.StatusCode, reply)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// benchBodies builds the request bodies: numEvents realistic, unique events over a few hundred subscriptions.
func benchBodies(numEvents, batchSize int) ([][]byte, error) {
	now := time.Now().UTC()
	var bodies [][]byte
	for from := 0; from < numEvents; from += batchSize {
		batch := make([]benchEvent, 0, batchSize)
		for i := from; i < min(from+batchSize, numEvents); i++ {
			batch = append(batch, newBenchEvent(i, now))
		}
		b, err := json.Marshal(batch)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}

// benchEvent is a usage event as a SaaS producer sends it.
type benchEvent struct {
	SpecVersion string         `json:"specversion"`
	ID          string         `json:"id"`
	Source      string         `json:"source"`
	Type        string         `json:"type"`
	Subject     string         `json:"subject"`
	Time        string         `json:"time"`
	Data        map[string]any `json:"data"`
}

var benchItems = []struct{ item, quantity string }{
	{"STORAGE-GB-HOURS", "12.5"}, {"API-REQUESTS", "1"}, {"STORAGE-PEAK-GB", "311.75"},
}

func newBenchEvent(i int, now time.Time) benchEvent {
	it := benchItems[i%len(benchItems)]
	return benchEvent{
		SpecVersion: "1.0", ID: fmt.Sprintf("evt-%08d-%04x", i, i*2654435761%65536),
		Source: fmt.Sprintf("https://metering.example.com/collectors/%d", i%8), Type: events.EventType,
		Subject: fmt.Sprintf("AS-%04d-%04d-%04d", 1000+i%300, 2000+i%7, 3000+i%11),
		Time:    now.Add(-time.Duration(i%3600) * time.Second).Format(time.RFC3339Nano),
		Data: map[string]any{
			"product": "PRD-100-200-300", "item": it.item, "quantity": it.quantity, "marketplace": "MP-91673",
			"attributes": map[string]string{"region": "eu-west-1", "host": fmt.Sprintf("node-%d", i%50)},
		},
	}
}

// benchCatalog is the catalog the bench validates against.
const benchCatalog = `
products:
  - id: PRD-100-200-300
    name: Cloud Storage
    schema: QT
    currency: EUR
    contracts: [CRD-10001]
    marketplaces: [MP-91673]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 48h
    items:
      - {mpn: STORAGE-GB-HOURS, name: Storage, unit: GB-hour, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE-PEAK-GB, name: Peak storage, unit: GB, precision: decimal(2), aggregation: max}
      - {mpn: API-REQUESTS, name: API requests, unit: request, precision: integer, aggregation: count}
`
