package pipelinetest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/submitter"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// The test world's catalog: PRD-FAST has 2-second periods closed 1 s after their end, PRD-HOUR hourly ones (open
// for the whole test). Both are searched by asset id.
const (
	FastProduct = "PRD-FAST"
	HourProduct = "PRD-HOUR"
	Contract    = "CRD-1"
	APIKey      = "SU-000-000-000:pipelinetest"
)

// CatalogYAML is the world's catalog.
const CatalogYAML = `products:
  - id: PRD-FAST
    name: Fast meter
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: fixed, every: 2s}
    allowed_lateness: 1s
    max_event_age: 1h
    asset_search: asset.id
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
      - {mpn: PEAK, name: Peak, unit: unit, precision: integer, aggregation: max}
  - id: PRD-HOUR
    name: Hourly meter
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: hourly}
    allowed_lateness: 5m
    asset_search: asset.id
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
`

// World is a running pipeline for one test.
type World struct {
	T           testing.TB
	NATS        *natsembed.Server
	Conn        *bus.Conn
	Partitions  int
	Catalog     *events.Catalog
	CatalogPath string
	Emulator    *connectemu.Emulator
	ConnectURL  string
	Connect     *usageapi.Client
	Ledger      *ledger.Store
	dir         string
}

// Start starts NATS (provisioned with partitions) and the emulator, whose provider accepts every submitted
// file at once; services are started separately.
func Start(t testing.TB, partitions int) *World {
	t.Helper()
	return StartWith(t, partitions, connectemu.ProviderPolicy{Auto: true})
}

// StartWith is Start with the emulated provider's policy.
func StartWith(t testing.TB, partitions int, provider connectemu.ProviderPolicy) *World {
	t.Helper()
	w := &World{T: t, NATS: natsembedtest.Start(t), Partitions: partitions, dir: t.TempDir()}
	w.Conn = w.connect("pipelinetest")
	cat, err := events.ParseCatalog([]byte(CatalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	w.Catalog, w.CatalogPath = cat, filepath.Join(w.dir, "catalog.yaml")
	if err := os.WriteFile(w.CatalogPath, []byte(CatalogYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Emulator = connectemu.New(connectemu.Options{Catalog: devstack.ConnectCatalog(cat), AutoAssets: true,
		APIKeys: []string{APIKey}, Provider: provider})
	api := httptest.NewServer(w.Emulator.Handler())
	t.Cleanup(func() { api.Close(); _ = w.Emulator.Close() })
	w.ConnectURL = api.URL + "/public/v1"
	if w.Connect, err = usageapi.New(w.ConnectURL, APIKey); err != nil {
		t.Fatal(err)
	}
	if w.Ledger, err = ledger.Open(w.ctx(), w.Conn); err != nil {
		t.Fatal(err)
	}
	return w
}

// connect opens a provisioned connection closed at the end of the test.
func (w *World) connect(name string) *bus.Conn {
	w.T.Helper()
	ctx := w.ctx()
	conn, err := bus.Connect(ctx, bus.Config{URL: w.NATS.URL(), Name: name, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		w.T.Fatal(err)
	}
	w.T.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: w.Partitions}); err != nil {
		w.T.Fatal(err)
	}
	return conn
}

func (w *World) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	w.T.Cleanup(cancel)
	return ctx
}

// Logger is a logger writing warnings and errors to the test's output.
func (w *World) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w.T.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// AggregatorOptions are fast worker settings with ticks on (periods close on time while the stream is idle).
func (w *World) AggregatorOptions(member string) aggregator.Options {
	return aggregator.Options{MemberID: member, Catalog: w.Catalog, Partitions: w.Partitions,
		CommitInterval: 50 * time.Millisecond, CommitMessages: 20, SnapshotInterval: time.Second, SnapshotEvents: 200,
		Heartbeat: 200 * time.Millisecond, LeaseTTL: time.Second, TickInterval: 200 * time.Millisecond, Logger: w.Logger()}
}

// StartAggregator runs an in-process worker until stop (or the end of the test).
func (w *World) StartAggregator(member string) (stop func()) {
	w.T.Helper()
	return w.StartAggregatorWith(w.AggregatorOptions(member))
}

// StartAggregatorWith runs an in-process worker with options o until stop (or the end of the test).
func (w *World) StartAggregatorWith(o aggregator.Options) (stop func()) {
	w.T.Helper()
	member := o.MemberID
	wk, err := aggregator.New(w.connect("aggregator-"+member), o)
	if err != nil {
		w.T.Fatal(err)
	}
	return w.run("aggregator "+member, wk.Run)
}

// SubmitterOptions are fast submitter settings against the emulator.
func (w *World) SubmitterOptions(member string) submitter.Options {
	return submitter.Options{Catalog: w.Catalog, ConnectURL: w.ConnectURL, ConnectAPIKey: APIKey, MemberID: member,
		Concurrency: 4, LeaseTTL: 2 * time.Second, ScanInterval: 200 * time.Millisecond, SupplementDelay: 200 * time.Millisecond,
		FollowMaxInterval: 300 * time.Millisecond, RetryMaxInterval: 500 * time.Millisecond, AckWait: 2 * time.Second,
		PlanGrace: 5 * time.Second,
		Retry: usageapi.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaxInterval: 200 * time.Millisecond,
			MaxElapsedTime: 2 * time.Second, ListLag: 250 * time.Millisecond},
		Logger: w.Logger()}
}

// StartSubmitter runs an in-process submitter until stop (or the end of the test).
func (w *World) StartSubmitter(member string) (stop func()) {
	w.T.Helper()
	s, err := submitter.New(w.connect("submitter-"+member), w.SubmitterOptions(member))
	if err != nil {
		w.T.Fatal(err)
	}
	return w.run("submitter "+member, s.Run)
}

// run runs fn until stop, which waits for it; an error it returns fails the test.
func (w *World) run(name string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.T.Errorf("%s: %v", name, err)
			}
		})
	}
	w.T.Cleanup(stop)
	return stop
}

// Event is a valid event of product and item for subscription sub at t, from source /test.
func Event(id, product, sub, item, qty string, t time.Time) events.Event {
	return events.Event{SpecVersion: events.SpecVersion, ID: id, Source: "/test", Type: events.EventType, Subject: sub,
		Time: t.UTC(), Data: events.Usage{Product: product, Item: item, Quantity: events.MustDecimal(qty)}}
}

var packetSeq atomic.Int64

// Publish stores evs as ingest does (one packet per partition, sorted by key, a fresh Nats-Msg-Id: a copy
// sent again is stored again, as after JetStream's duplicate window) and returns each event's packet sequence.
func (w *World) Publish(evs ...events.Event) map[events.Key]uint64 {
	w.T.Helper()
	groups := map[int][]events.Event{}
	for _, e := range evs {
		p := events.Partition(e.Subject, w.Partitions)
		groups[p] = append(groups[p], e)
	}
	seqs := map[events.Key]uint64{}
	for p, g := range groups {
		events.SortByKey(g)
		h := bus.Header{events.HeaderKind: {events.KindEvents}, bus.HeaderMsgID: {"pt-" + strconv.FormatInt(packetSeq.Add(1), 10)}}
		ack, err := w.Conn.Publish(w.ctx(), bus.Msg{Subject: subjects.Events(p), Header: h, Data: events.EncodePacket(g)})
		if err != nil {
			w.T.Fatal(err)
		}
		for _, e := range g {
			seqs[e.Key()] = ack.Seq
		}
	}
	return seqs
}

// TickAll publishes a tick on every partition, as an idle partition's owner does: with ticks off, periods
// close only when a message arrives after their close.
func (w *World) TickAll() {
	w.T.Helper()
	for p := range w.Partitions {
		h := bus.Header{events.HeaderKind: {events.KindTick}, bus.HeaderMsgID: {"pt-tick-" + strconv.FormatInt(packetSeq.Add(1), 10)}}
		if _, err := w.Conn.Publish(w.ctx(), bus.Msg{Subject: subjects.Events(p), Header: h}); err != nil {
			w.T.Fatal(err)
		}
	}
}

// WaitFor polls cond every 50 ms until it holds; the test fails when timeout passes first.
func (w *World) WaitFor(timeout time.Duration, what string, cond func() bool) {
	w.T.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.T.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitAccepted waits until every part of a revision of the period of product containing t is accepted in the
// ledger, and returns part 1.
func (w *World) WaitAccepted(product string, t time.Time, revision int, timeout time.Duration) *ledger.Entry {
	w.T.Helper()
	p, _ := w.Catalog.Product(product)
	id := ledger.FileID{Product: product, Contract: Contract, PeriodStart: p.PeriodOf(t).Start, Revision: revision, Part: 1}
	var e *ledger.Entry
	w.WaitFor(timeout, fmt.Sprintf("%s accepted", id.Key()), func() bool {
		var err error
		e, _, err = w.Ledger.Get(context.Background(), id.Key())
		if err != nil {
			return false
		}
		if e.State.Terminal() && e.State != ledger.StateAccepted {
			w.T.Fatalf("%s ended %s: %s %s", id.Key(), e.State, e.Reason, e.LastError)
		}
		return e.State == ledger.StateAccepted
	})
	return e
}
