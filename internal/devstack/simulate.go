package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Shares of the simulator's traffic that exercise exactly-once: one request in dupEvery repeats an event
// already sent, one in resendEvery repeats the whole previous request (a producer retry after a lost
// answer), and one in lateEvery carries an event of the previous period (counted if it arrives within the
// allowed lateness, an adjustment and a supplementary file otherwise).
const (
	dupEvery    = 5
	resendEvery = 20
	lateEvery   = 12
	recentKept  = 64
)

// simulator produces realistic usage for every meter of the catalogs and posts it to the real ingest
// endpoint: each tick, one batch request with a reading of about half of the meters. Runs on one goroutine.
type simulator struct {
	url     string
	key     string // the bearer key sent, if any (never logged)
	every   time.Duration
	client  *http.Client
	meters  []eventgen.Meter
	gen     *eventgen.Generator // the readings; ids are sim-<start>-<n>: unique across starts
	rng     *rand.Rand          // gen's: which meters, duplicates, resends, late events
	started time.Time
	recent  []events.Event // events sent lately, repeated as duplicates
	last    []byte         // the previous request body
	log     *slog.Logger
}

// startSimulator starts the simulator when Options.Simulate is set.
func (s *Stack) startSimulator(ctx context.Context, logw io.Writer) error {
	if !s.opts.Simulate {
		return nil
	}
	now := time.Now()
	gen := eventgen.New(eventgen.Options{Seed: uint64(now.UnixNano()), IDPrefix: "sim-" + strconv.FormatInt(now.Unix(), 36) + "-",
		Source: simulatorSource})
	s.sim = &simulator{
		url: s.urls.Ingest, key: s.ingestKey(), every: s.opts.SimulateEvery, client: &http.Client{Timeout: 30 * time.Second},
		meters: meters(s.opts.Catalogs), gen: gen, rng: gen.Rand(), started: now,
		log: telemetry.NewLogger(logw, "simulator", s.opts.LogLevel),
	}
	s.group.run("simulator", func() error { return s.sim.run(ctx) })
	return nil
}

// ingestKey is the key the simulator sends: the first of Options.IngestAPIKeys, or none.
func (s *Stack) ingestKey() string {
	if len(s.opts.IngestAPIKeys) == 0 {
		return ""
	}
	return s.opts.IngestAPIKeys[0].Key
}

// run waits for ingest to be ready, then sends one request per tick until ctx ends. A request that fails is
// sent again, unchanged, at the next tick.
func (sim *simulator) run(ctx context.Context) error {
	if err := sim.waitReady(ctx); err != nil {
		return nil
	}
	t := time.NewTicker(sim.every)
	defer t.Stop()
	var pending []byte
	for {
		if pending == nil {
			pending = sim.batch(time.Now())
		}
		if sim.send(ctx, pending) {
			sim.last, pending = pending, nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// waitReady polls /readyz until ingest answers 200.
func (sim *simulator) waitReady(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sim.url+"/readyz", nil)
		if resp, err := sim.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// batch builds one request: a reading of about half of the meters at now (give or take a few seconds, as
// producers' clocks and buffers do), sometimes a duplicate or a late event; sometimes the previous request
// again.
func (sim *simulator) batch(now time.Time) []byte {
	if sim.last != nil && sim.rng.IntN(resendEvery) == 0 {
		return sim.last
	}
	var evs []events.Event
	for _, m := range sim.meters {
		if sim.rng.IntN(2) == 0 {
			evs = append(evs, sim.gen.Event(m, sim.notBeforeStart(now.Add(-time.Duration(sim.rng.IntN(3000))*time.Millisecond))))
		}
	}
	if len(sim.recent) > 0 && sim.rng.IntN(dupEvery) == 0 {
		evs = append(evs, sim.recent[sim.rng.IntN(len(sim.recent))])
	}
	if sim.rng.IntN(lateEvery) == 0 {
		evs = append(evs, sim.late(now)...)
	}
	sim.remember(evs)
	return eventgen.AppendBatch(nil, evs)
}

// notBeforeStart keeps a reading's time at or after the simulator's start: a meter that did not exist yet has
// nothing to report, and an event of a period that closed before the pipeline started is rejected (too_old).
func (sim *simulator) notBeforeStart(t time.Time) time.Time {
	if t.Before(sim.started) {
		return sim.started
	}
	return t
}

// late is a reading timed in the previous period of a random meter's product, if the simulator already
// ran during that period (an event older than the stack itself is not a realistic late event).
func (sim *simulator) late(now time.Time) []events.Event {
	m := sim.meters[sim.rng.IntN(len(sim.meters))]
	prev := m.Product.PeriodOf(m.Product.PeriodOf(now).Start.Add(-time.Nanosecond))
	if prev.Start.Before(sim.started) {
		return nil
	}
	span := prev.End.Sub(prev.Start)
	return []events.Event{sim.gen.Event(m, prev.Start.Add(time.Duration(sim.rng.Int64N(int64(span)))))}
}

// remember keeps the last recentKept events for duplicates.
func (sim *simulator) remember(evs []events.Event) {
	sim.recent = append(sim.recent, evs...)
	if over := len(sim.recent) - recentKept; over > 0 {
		sim.recent = append(sim.recent[:0], sim.recent[over:]...)
	}
}

// send posts one batch; it reports whether ingest answered (2xx, or 4xx: a rejected event never becomes
// valid, so it is not sent again).
func (sim *simulator) send(ctx context.Context, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sim.url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return true
	}
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	if sim.key != "" {
		req.Header.Set("Authorization", "Bearer "+sim.key)
	}
	resp, err := sim.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			sim.log.WarnContext(ctx, "simulator: request failed; resending", "err", err)
		}
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
		sim.log.WarnContext(ctx, "simulator: ingest unavailable; resending", "status", resp.StatusCode)
		return false
	}
	var answer events.IngestResponse
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode >= 400 {
		sim.log.WarnContext(ctx, "simulator: request refused", "status", resp.StatusCode, "err", err)
	}
	sim.logRejected(ctx, answer)
	return true
}

// logRejected logs the first rejected event of an answer: it would mean the sample world is inconsistent.
func (sim *simulator) logRejected(ctx context.Context, a events.IngestResponse) {
	for _, r := range a.Results {
		if r.Status == events.StatusRejected {
			sim.log.WarnContext(ctx, "simulator: event rejected", "id", r.ID, "reason", r.Reason, "message", r.Message)
			return
		}
	}
}
