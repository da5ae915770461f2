// Package ingest is `usagepipe bench ingest`: ingest over loopback HTTP against raw JetStream publishing, in
// one process on one embedded JetStream (see [Run]).
//
// # Concurrency
//
// Run is called once at a time; it starts and ends its own clients and publishers.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/benchmark/rawpublish"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/eventgen"
	service "github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Run measures, against one embedded JetStream (file storage, temporary store), (a) raw async
// publish of 256-byte messages, one JetStream message each with its own Nats-Msg-Id, through bus.PublishBatch
// in windows, and (b) usagepipe ingest over HTTP on loopback, batches of realistic events, until every
// response is 200 (durably stored). Client-side inputs (request bodies, raw message ids and subjects) are built
// before each timed phase. With --otlp, each round also posts the same events as OTLP/HTTP protobuf log
// records to /v1/logs, mapped by the bench catalog's OTLP rules. It alternates the two for a few rounds and
// keeps each one's best round, which
// filters out the noise of other work on a shared machine; the medians are printed too. The last line is the
// RESULT line.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	p, err := parseBenchIngest(args, getenv, stdout)
	if err != nil {
		return err
	}
	env, err := startBenchEnv(ctx, p.partitions)
	if err != nil {
		return err
	}
	defer env.Close()
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
			o, err := benchOTLPRound(ctx, env, url, p, round, stdout)
			if err != nil {
				return err
			}
			otlps = append(otlps, o)
		}
	}
	bestRaw, best := slices.Max(raws), bestFigures(ings)
	medRaw, medIngest := harness.Median(raws), harness.Median(eventRates(ings))
	fmt.Fprintf(stdout, "medians of %d rounds: ingest %.0f events/s, raw publish %.0f msgs/s, ratio %.2f\n",
		p.rounds, medIngest, medRaw, medIngest/medRaw)
	result := fmt.Sprintf("RESULT ingest_events_per_s=%.0f raw_publish_msgs_per_s=%.0f ratio=%.2f p99_ms=%.1f",
		best.eventsPerSec, bestRaw, best.eventsPerSec/bestRaw, best.p99ms)
	if p.otlp {
		bestOTLP := bestFigures(otlps)
		fmt.Fprintf(stdout, "medians of %d rounds: OTLP/HTTP protobuf %.0f events/s, CloudEvents JSON %.0f events/s\n",
			p.rounds, harness.Median(eventRates(otlps)), medIngest)
		result += fmt.Sprintf(" otlp_events_per_s=%.0f otlp_p99_ms=%.1f", bestOTLP.eventsPerSec, bestOTLP.p99ms)
	}
	fmt.Fprintln(stdout, result)
	return nil
}

func bestFigures(figs []ingestFigures) ingestFigures {
	return slices.MaxFunc(figs, func(a, b ingestFigures) int { return cmp.Compare(a.eventsPerSec, b.eventsPerSec) })
}

// benchOTLPRound measures OTLP/HTTP protobuf log records to POST /v1/logs once, printing it.
func benchOTLPRound(ctx context.Context, env *benchEnv, url string, p benchIngestParams, round int, stdout io.Writer) (ingestFigures, error) {
	bodies, err := benchOTLPBodies(env.meters, round, p.events, p.batch)
	if err != nil {
		return ingestFigures{}, err
	}
	cpu := harness.ProcessCPU()
	o, err := sendBodies(ctx, strings.TrimSuffix(url, service.PathEvents)+service.PathLogs, "application/x-protobuf", checkOTLPAnswer, bodies, p.events, p.clients)
	if err != nil {
		return ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d OTLP/HTTP protobuf: %d log records in requests of %d, %d clients: %.0f events/s, %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per event\n",
		round+1, p.events, p.batch, p.clients, o.eventsPerSec, o.requestsPerSec, o.p50ms, o.p99ms, harness.PerItem(harness.ProcessCPU()-cpu, p.events))
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
	cpu := harness.ProcessCPU()
	raw, err := benchRawPublish(ctx, env.Conn, round, p)
	if err != nil {
		return 0, ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d raw publish: %d msgs of 256 B, windows of %d, %d publishers: %.0f msgs/s, %.1f µs CPU per msg\n",
		round+1, p.rawMsgs, p.window, p.rawPublishers, raw, harness.PerItem(harness.ProcessCPU()-cpu, p.rawMsgs))
	bodies := benchBodies(env.meters, round, p.events, p.batch)
	profile := p.cpuProfile
	if round > 0 { // the first round's profile only
		profile = ""
	}
	stopProfile, err := harness.StartProfile(profile)
	if err != nil {
		return 0, ingestFigures{}, err
	}
	cpu = harness.ProcessCPU()
	ing, err := sendBodies(ctx, url, service.MediaBatch, nil, bodies, p.events, p.clients)
	ingCPU := harness.ProcessCPU() - cpu
	stopProfile()
	if err != nil {
		return 0, ingestFigures{}, err
	}
	fmt.Fprintf(stdout, "round %d ingest: %d events in batches of %d, %d clients: %.0f events/s, %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %.1f µs CPU per event\n",
		round+1, p.events, p.batch, p.clients, ing.eventsPerSec, ing.requestsPerSec, ing.p50ms, ing.p99ms, harness.PerItem(ingCPU, p.events))
	return raw, ing, nil
}

// benchEnv is the embedded JetStream, a provisioned connection and the bench catalog's meters.
type benchEnv struct {
	*harness.JetStream
	catalog    *events.Catalog
	meters     []eventgen.Meter
	partitions int
}

func startBenchEnv(ctx context.Context, partitions int) (*benchEnv, error) {
	catalog, err := events.ParseCatalog([]byte(benchCatalog + benchOTLPRules))
	if err != nil {
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	js, err := harness.StartJetStream(ctx, "bench-ingest", partitions)
	if err != nil {
		return nil, fmt.Errorf("bench ingest: %w", err)
	}
	return &benchEnv{JetStream: js, catalog: catalog, meters: benchMeters(catalog), partitions: partitions}, nil
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
	svc, err := service.New(service.Config{Partitions: env.partitions, AllowAnonymous: true}, env.Conn, env.catalog, tel) // loopback only
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { service.Serve(sctx, ln, svc.Handler(), 10*time.Second); close(done) }()
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

// benchBodies builds the request bodies of a round: the round's events (benchRoundEvents) in batches.
func benchBodies(meters []eventgen.Meter, round, numEvents, batchSize int) [][]byte {
	next := benchRoundEvents(meters, round)
	var bodies [][]byte
	batch := make([]events.Event, 0, batchSize)
	for from := 0; from < numEvents; from += batchSize {
		batch = batch[:0]
		for range min(batchSize, numEvents-from) {
			batch = append(batch, next())
		}
		bodies = append(bodies, eventgen.AppendBatch(nil, batch))
	}
	return bodies
}

// benchRoundEvents draws the events of a round, one per call: realistic events of internal/eventgen's fleet,
// unique across rounds, over the meters in turn (a few hundred subscriptions), timed within the last hour.
func benchRoundEvents(meters []eventgen.Meter, round int) func() events.Event {
	now := time.Now().UTC()
	gen := eventgen.New(eventgen.Fleet(eventgen.Options{Seed: uint64(round) + 1, IDPrefix: fmt.Sprintf("evt-%02d-", round)}))
	i := 0
	return func() events.Event {
		e := gen.Event(meters[i%len(meters)], now.Add(-time.Duration(i%3600)*time.Second))
		i++
		return e
	}
}

// benchSubscriptions is how many subscriptions the bench's events spread over.
const benchSubscriptions = 300

// benchMeters are the bench product's items for each of its subscriptions.
func benchMeters(c *events.Catalog) []eventgen.Meter {
	subs := make([]string, benchSubscriptions)
	for i := range subs {
		subs[i] = eventgen.Subscription(1000 + i)
	}
	return eventgen.Meters(c, func(*events.Product) []string { return subs })
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
