package main

import (
	"bytes"
	"cmp"
	"context"
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/rawpublish"
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
// response is 200 (durably stored). Client-side inputs (request bodies, raw message ids and subjects) are built
// before each timed phase. With --otlp, each round also posts the same number of events as OTLP/HTTP
// protobuf log records to /v1/logs, mapped by the bench catalog's OTLP rules. It alternates the two for a few rounds and keeps each one's best round, which
// filters out the noise of other work on a shared machine; the medians are printed too. The last line is the
// RESULT line.
func benchIngest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	p, err := parseBenchIngest(args, getenv, stdout)
	if err != nil {
		return err
	}
	env, err := startBenchEnv(ctx, p.partitions)
	if err != nil {
		return err
	}
	defer env.close()
	url, stop, err := serveBenchIngest(ctx, env)
	if err != nil {
		return err
	}
	defer stop()
	describeBenchIngest(stdout, p)
	var raws []float64
	var ings, otlps []ingestFigures
	for round := range p.rounds {
		raw, ing, err := benchRound(ctx, env, url, p, round, stdout)
		if err != nil {
			return err
		}
		raws, ings = append(raws, raw), append(ings, ing)
		if p.otlp {
			o, err := benchOTLPRound(ctx, url, p, round, stdout)
			if err != nil {
				return err
			}
			otlps = append(otlps, o)
		}
	}
	bestRaw, best := slices.Max(raws), bestFigures(ings)
	medRaw, medIngest := median(raws), median(eventRates(ings))
	fmt.Fprintf(stdout, "medians of %d rounds: ingest %.0f events/s, raw publish %.0f msgs/s, ratio %.2f\n",
		p.rounds, medIngest, medRaw, medIngest/medRaw)
	result := fmt.Sprintf("RESULT ingest_events_per_s=%.0f raw_publish_msgs_per_s=%.0f ratio=%.2f p99_ms=%.1f",
		best.eventsPerSec, bestRaw, best.eventsPerSec/bestRaw, best.p99ms)
	if p.otlp {
		bestOTLP := bestFigures(otlps)
		fmt.Fprintf(stdout, "medians of %d rounds: OTLP/HTTP protobuf %.0f events/s, CloudEvents JSON %.0f events/s\n",
			p.rounds, median(eventRates(otlps)), medIngest)
		result += fmt.Sprintf(" otlp_events_per_s=%.0f otlp_p99_ms=%.1f", bestOTLP.eventsPerSec, bestOTLP.p99ms)
	}
	fmt.Fprintln(stdout, result)
	return nil
}

func bestFigures(figs []ingestFigures) ingestFigures {
	return slices.MaxFunc(figs, func(a, b ingestFigures) int { return cmp.Compare(a.eventsPerSec, b.eventsPerSec) })
}

// benchOTLPRound measures OTLP/HTTP protobuf log records to POST /v1/logs once, printing it.
func benchOTLPRound(ctx context.Context, url string, p benchIngestParams, round int, stdout io.Writer) (ingestFigures, error) {
	bodies, err := benchOTLPBodies(round, p.events, p.batch)
	if err != nil {
		return ingestFigures{}, err
	}
	cpu := processCPU()
	o, err := sendBodies(ctx, strings.TrimSuffix(url, ingest.PathEvents)+ingest.PathLogs, "application/x-protobuf", checkOTLPAnswer, bodies, p.events, p.clients)
	if err != nil {
		return ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d OTLP/HTTP protobuf: %d log records in requests of %d, %d clients: %.0f events/s, %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per event\n",
		round+1, p.events, p.batch, p.clients, o.eventsPerSec, o.requestsPerSec, o.p50ms, o.p99ms, perItem(processCPU()-cpu, p.events))
	return o, nil
}

// describeBenchIngest says what the two phases measure.
func describeBenchIngest(w io.Writer, p benchIngestParams) {
	fmt.Fprintf(w, "raw publish: %d messages of 256 B per round, one JetStream message each with its own Nats-Msg-Id, "+
		"bus.PublishBatch windows of %d from %d publishers, until every PubAck\n", p.rawMsgs, p.window, p.rawPublishers)
	fmt.Fprintf(w, "ingest: %d realistic events per round, POST /v1/events over loopback HTTP in batches of %d from %d clients, "+
		"each request answered 200 only once its packets are acknowledged (stored in USAGE_EVENTS, file storage)\n",
		p.events, p.batch, p.clients)
	fmt.Fprintf(w, "both run in this process against one embedded JetStream; client inputs are built before timing; "+
		"CPU is the whole process's (server, clients, ingest); RESULT takes each side's best of %d alternating rounds\n", p.rounds)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func eventRates(ings []ingestFigures) []float64 {
	rates := make([]float64, len(ings))
	for i, ing := range ings {
		rates[i] = ing.eventsPerSec
	}
	return rates
}

// benchIngestParams are the flags of bench ingest.
type benchIngestParams struct {
	events, batch, clients, rawMsgs, window, rawPublishers, partitions, rounds int
	cpuProfile                                                                 string
	otlp                                                                       bool
}

func parseBenchIngest(args []string, getenv func(string) string, stdout io.Writer) (benchIngestParams, error) {
	var p benchIngestParams
	f := config.NewFlagSet("bench ingest", getenv)
	f.SetOutput(stdout)
	f.IntVar(&p.events, "events", 200_000, "events to ingest over HTTP per round")
	f.IntVar(&p.batch, "batch", 500, "events per HTTP request")
	f.IntVar(&p.clients, "concurrency", 4, "concurrent HTTP clients")
	f.IntVar(&p.rawMsgs, "raw-messages", 200_000, "256-byte messages per round of the raw publish baseline")
	f.IntVar(&p.window, "window", 1000, "messages per bus.PublishBatch call in the raw baseline")
	f.IntVar(&p.rawPublishers, "raw-concurrency", 4, "concurrent publishers in the raw baseline")
	f.IntVar(&p.partitions, "partitions", 16, "event partitions")
	f.IntVar(&p.rounds, "rounds", 3, "rounds of (raw, ingest); the best of each is reported")
	f.BoolVar(&p.otlp, "otlp", false, "also measure OTLP/HTTP protobuf log records (POST /v1/logs) in each round, beside CloudEvents JSON")
	f.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of the ingest phases to this file")
	if err := f.Parse(args); err != nil {
		return p, err
	}
	for _, n := range []int{p.events, p.batch, p.clients, p.rawMsgs, p.window, p.rawPublishers, p.partitions, p.rounds} {
		if n < 1 {
			return p, errors.New("bench ingest: every count must be positive")
		}
	}
	return p, nil
}

// benchRound measures raw publish then HTTP ingest once, printing both.
func benchRound(ctx context.Context, env *benchEnv, url string, p benchIngestParams, round int, stdout io.Writer) (float64, ingestFigures, error) {
	cpu := processCPU()
	raw, err := benchRawPublish(ctx, env.conn, round, p)
	if err != nil {
		return 0, ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d raw publish: %d msgs of 256 B, windows of %d, %d publishers: %.0f msgs/s, %.1f µs CPU per msg\n",
		round+1, p.rawMsgs, p.window, p.rawPublishers, raw, perItem(processCPU()-cpu, p.rawMsgs))
	bodies, err := benchBodies(round, p.events, p.batch)
	if err != nil {
		return 0, ingestFigures{}, err
	}
	profile := p.cpuProfile
	if round > 0 { // the first round's profile only
		profile = ""
	}
	stopProfile, err := startProfile(profile)
	if err != nil {
		return 0, ingestFigures{}, err
	}
	cpu = processCPU()
	ing, err := sendBodies(ctx, url, ingest.MediaBatch, nil, bodies, p.events, p.clients)
	ingCPU := processCPU() - cpu
	stopProfile()
	if err != nil {
		return 0, ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d ingest: %d events in batches of %d, %d clients: %.0f events/s, %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per event\n",
		round+1, p.events, p.batch, p.clients, ing.eventsPerSec, ing.requestsPerSec, ing.p50ms, ing.p99ms, perItem(ingCPU, p.events))
	return raw, ing, nil
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
		env.catalog, err = events.ParseCatalog([]byte(benchCatalog + benchOTLPRules))
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

// benchRawPublish publishes p.rawMsgs 256-byte messages, each with a unique Nats-Msg-Id, and returns messages/s
// (internal/benchmark/rawpublish).
func benchRawPublish(ctx context.Context, conn *bus.Conn, round int, p benchIngestParams) (float64, error) {
	rate, err := rawpublish.Run(ctx, conn, rawpublish.Options{Messages: p.rawMsgs, Window: p.window,
		Publishers: p.rawPublishers, Partitions: p.partitions, IDPrefix: fmt.Sprintf("raw-%d", round)})
	if err != nil {
		return 0, fmt.Errorf("bench ingest: raw publish: %w", err)
	}
	return rate, nil
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

// serveBenchIngest serves an ingest Service (no trace exporter, logs discarded) on loopback and returns its
// URL and a stop function.
func serveBenchIngest(ctx context.Context, env *benchEnv) (string, func(), error) {
	tel, err := telemetry.Setup(ctx, telemetry.Options{Service: "ingest", Getenv: func(string) string { return "" }, LogOutput: io.Discard})
	if err != nil {
		return "", nil, err
	}
	svc, err := ingest.New(ingest.Config{Partitions: env.partitions, AllowAnonymous: true}, env.conn, env.catalog, tel) // loopback only
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ingest.Serve(sctx, ln, svc.Handler(), 10*time.Second); close(done) }()
	stop := func() { cancel(); <-done; tel.Shutdown() }
	return "http://" + ln.Addr().String() + "/v1/events", stop, nil
}

// sendBodies posts every body once, from clients goroutines, and measures rates and latency percentiles.
// contentType is the bodies'; check, if set, checks each 200 answer's body.
func sendBodies(ctx context.Context, url, contentType string, check func([]byte) error, bodies [][]byte, numEvents, clients int) (ingestFigures, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}}
	defer client.CloseIdleConnections()
	latencies := make([]time.Duration, len(bodies))
	var next atomic.Int64
	start := time.Now()
	err := runWorkers(clients, func(int) error {
		for i := int(next.Add(1)) - 1; i < len(bodies); i = int(next.Add(1)) - 1 {
			t0 := time.Now()
			if err := postBatch(ctx, client, url, contentType, check, bodies[i]); err != nil {
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

func postBatch(ctx context.Context, client *http.Client, url, contentType string, check func([]byte) error, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("bench ingest: post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		reply, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("bench ingest: want 200, have %d: %.300s", resp.StatusCode, reply)
	}
	reply, err := io.ReadAll(resp.Body)
	if err == nil && check != nil {
		err = check(reply)
	}
	return err
}

// benchBodies builds the request bodies of a round: numEvents realistic events, unique across rounds, over a
// few hundred subscriptions.
func benchBodies(round, numEvents, batchSize int) ([][]byte, error) {
	now := time.Now().UTC()
	var bodies [][]byte
	for from := 0; from < numEvents; from += batchSize {
		batch := make([]benchEvent, 0, batchSize)
		for i := from; i < min(from+batchSize, numEvents); i++ {
			batch = append(batch, newBenchEvent(round, i, now))
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

func newBenchEvent(round, i int, now time.Time) benchEvent {
	it := benchItems[i%len(benchItems)]
	return benchEvent{
		SpecVersion: "1.0", ID: fmt.Sprintf("evt-%02d-%08d-%04x", round, i, i*2654435761%65536),
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
