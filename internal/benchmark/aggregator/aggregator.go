// Package aggregator is `usagepipe bench aggregator`: one aggregator worker catching up on a filled
// USAGE_EVENTS against a raw ordered consumer of the same stream, on one embedded JetStream (see [Run]).
//
// # Concurrency
//
// Run is called once at a time; the worker under test runs on its own goroutines until Run ends it.
package aggregator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	service "github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Run fills USAGE_EVENTS (embedded JetStream, file storage, temporary store) with packets as
// ingest writes them, then measures in the same run (a) the raw ordered-consumer rate over the whole stream
// (bus.Read, no decoding) and (b) the catch-up rate of one aggregator worker owning every partition: events
// decoded, folded and committed per second, from its start until every partition's progress covers the
// stream. ratio = aggregator events/s ÷ raw consumer events/s (raw msgs/s × events per packet).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("bench aggregator", getenv)
	f.SetOutput(stdout)
	numEvents := f.Int("events", 1_000_000, "events to fill the stream with")
	subs := f.Int("subscriptions", 10_000, "distinct subscriptions")
	perRequest := f.Int("events-per-request", 500, "events per simulated ingest request (one packet per partition)")
	partitions := f.Int("partitions", 16, "event partitions")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the catch-up phase to this file")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *numEvents < 1 || *subs < 1 || *perRequest < 1 || *partitions < 1 {
		return errors.New("bench aggregator: every count must be positive")
	}
	catalog, err := harness.DailyCatalog()
	if err != nil {
		return fmt.Errorf("bench aggregator: %w", err)
	}
	js, err := harness.StartJetStream(ctx, "bench-aggregator", *partitions)
	if err != nil {
		return fmt.Errorf("bench aggregator: %w", err)
	}
	defer js.Close()
	b := &aggBench{conn: js.Conn, out: stdout, catalog: catalog, events: *numEvents, subs: *subs, perRequest: *perRequest,
		partitions: *partitions, cpuProfile: *cpuProfile, url: js.Server.URL()}
	return b.run(ctx)
}

// aggBench is one run of the aggregator benchmark.
type aggBench struct {
	conn                                 *bus.Conn
	out                                  io.Writer
	catalog                              *events.Catalog
	events, subs, perRequest, partitions int
	packets                              int
	cpuProfile                           string
	url                                  string
}

func (b *aggBench) run(ctx context.Context) error {
	if err := b.fill(ctx); err != nil {
		return err
	}
	rawMsgs, rawEvents, err := b.rawConsume(ctx)
	if err != nil {
		return err
	}
	agg, err := b.catchUp(ctx)
	if err != nil {
		return err
	}
	ratio := agg / rawEvents
	fmt.Fprintf(b.out, "aggregator catch-up: %.0f events/s (%.2f of the raw consumer's event rate)\n", agg, ratio)
	fmt.Fprintf(b.out, "RESULT aggregator_events_per_s=%.0f raw_consume_msgs_per_s=%.0f ratio=%.3f\n", agg, rawMsgs, ratio)
	return nil
}

// fill publishes the events as ingest would: per request, one packet per partition, sorted by key.
func (b *aggBench) fill(ctx context.Context) error {
	gen := eventgen.New(eventgen.Options{Seed: 1, IDPrefix: "ev-", Source: func(eventgen.Meter, int) string { return "bench" },
		Quantity: func(_ eventgen.Meter, rng *rand.Rand) events.Decimal {
			return events.DecimalFromInt(int64(rng.IntN(100)))
		}})
	p, _ := b.catalog.Product(harness.DailyProduct)
	units, peak := eventgen.Meter{Product: p, Item: &p.Items[0]}, eventgen.Meter{Product: p, Item: &p.Items[1]}
	start, at := time.Now(), time.Now().UTC()
	for sent := 0; sent < b.events; sent += b.perRequest {
		n := min(b.perRequest, b.events-sent)
		msgs := b.request(gen, units, peak, sent, n, at)
		if _, err := b.conn.PublishBatch(ctx, msgs); err != nil {
			return fmt.Errorf("bench aggregator: fill: %w", err)
		}
		b.packets += len(msgs)
	}
	d := time.Since(start)
	fmt.Fprintf(b.out, "filled USAGE_EVENTS: %d events in %d packets over %d subscriptions and %d partitions in %v (%.0f events/s)\n",
		b.events, b.packets, b.subs, b.partitions, d.Round(time.Millisecond), float64(b.events)/d.Seconds())
	return nil
}

// request builds the packets of one simulated ingest request of n events: a quarter PEAK, the rest UNITS,
// each of a random subscription (AS-<n>), with a whole quantity below 100.
func (b *aggBench) request(gen *eventgen.Generator, units, peak eventgen.Meter, first, n int, at time.Time) []bus.Msg {
	groups := map[int][]events.Event{}
	for i := range n {
		m := units
		if i%4 == 0 {
			m = peak
		}
		m.Subject = "AS-" + strconv.Itoa(gen.Rand().IntN(b.subs))
		p := events.Partition(m.Subject, b.partitions)
		groups[p] = append(groups[p], gen.Event(m, at))
	}
	msgs := make([]bus.Msg, 0, len(groups))
	for p, g := range groups {
		events.SortByKey(g)
		h := bus.Header{events.HeaderKind: []string{events.KindEvents},
			bus.HeaderMsgID: []string{"bench-" + strconv.Itoa(first) + "-" + strconv.Itoa(p)}}
		msgs = append(msgs, bus.Msg{Subject: subjects.Events(p), Header: h, Data: events.EncodePacket(g)})
	}
	return msgs
}

// rawConsume reads the whole stream with one ordered consumer and returns messages/s and events/s.
func (b *aggBench) rawConsume(ctx context.Context) (msgsPerS, eventsPerS float64, err error) {
	msgs, evs := 0, 0
	start, cpu := time.Now(), harness.ProcessCPU()
	err = b.conn.Read(ctx, bus.StreamEvents, bus.ReadOptions{}, func(m bus.Msg) error {
		msgs++
		evs += bytes.Count(m.Data, []byte{'\n'})
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("bench aggregator: raw consume: %w", err)
	}
	d, cpu := time.Since(start).Seconds(), harness.ProcessCPU()-cpu
	msgsPerS, eventsPerS = float64(msgs)/d, float64(evs)/d
	fmt.Fprintf(b.out, "raw ordered consumer: %d messages (%d events) in %.2fs: %.0f msgs/s, %.0f events/s (process CPU %.2f µs/event)\n",
		msgs, evs, d, msgsPerS, eventsPerS, harness.PerItem(cpu, evs))
	return msgsPerS, eventsPerS, nil
}

// catchUp runs one worker owning every partition until every partition's committed progress reaches the end
// of the stream, and returns events/s.
func (b *aggBench) catchUp(ctx context.Context) (float64, error) {
	ends, err := b.partitionEnds(ctx)
	if err != nil {
		return 0, err
	}
	w, err := service.New(b.conn, service.Options{MemberID: "bench", Catalog: b.catalog, Partitions: b.partitions,
		NoTicks: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, err
	}
	stopProfile, err := harness.StartProfile(b.cpuProfile)
	if err != nil {
		return 0, err
	}
	defer stopProfile()
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start, cpu := time.Now(), harness.ProcessCPU()
	go func() { done <- w.Run(wctx) }()
	err = b.waitCommitted(ctx, ends)
	d, cpu := time.Since(start), harness.ProcessCPU()-cpu
	cancel()
	if werr := <-done; err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("bench aggregator: catch-up: %w", err)
	}
	rate := float64(b.events) / d.Seconds()
	fmt.Fprintf(b.out, "aggregator: %d events applied and committed in %.2fs by one worker owning %d partitions (process CPU %.2f µs/event)\n",
		b.events, d.Seconds(), b.partitions, harness.PerItem(cpu, b.events))
	return rate, nil
}

// partitionEnds is the last sequence of every partition's subject.
func (b *aggBench) partitionEnds(ctx context.Context) ([]uint64, error) {
	ends := make([]uint64, b.partitions)
	for p := range ends {
		m, err := b.conn.LastMsg(ctx, bus.StreamEvents, subjects.Events(p))
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			return nil, fmt.Errorf("bench aggregator: %w", err)
		}
		ends[p] = m.Seq
	}
	return ends, nil
}

// waitCommitted polls each partition's progress record until its "to" reaches the partition's end. It uses
// its own connection (the worker's is busy with its consumers) and retries failed reads (a loaded machine can
// make one time out) until waitTimeout.
func (b *aggBench) waitCommitted(ctx context.Context, ends []uint64) error {
	conn, err := bus.Connect(ctx, bus.Config{URL: b.url, Name: "bench-aggregator-poll", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(waitTimeout)
	for p, end := range ends {
		for end > 0 {
			m, err := conn.LastMsg(ctx, bus.StreamAgg, subjects.Progress(p))
			if err == nil && progressTo(m.Data) >= end {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("partition %d not committed to %d after %v (last error: %v)", p, end, waitTimeout, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// waitTimeout bounds the catch-up.
const waitTimeout = 10 * time.Minute

// progressTo reads "to" from a progress record.
func progressTo(data []byte) uint64 {
	var p struct {
		To    uint64 `json:"to"`
		Part  int    `json:"part"`
		Parts int    `json:"parts"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Part < p.Parts {
		return 0
	}
	return p.To
}
