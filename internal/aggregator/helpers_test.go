package aggregator

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// testCatalog has one product with 1-second fixed periods and 500 ms of lateness, so periods close fast.
const testCatalog = `products:
  - id: PRD-TEST-0001
    name: Test meter
    schema: QT
    currency: USD
    contracts: [CRD-T1, CRD-T2]
    period: {kind: fixed, every: 1s}
    allowed_lateness: 500ms
    max_event_age: 1h
    items:
      - mpn: UNITS
        name: Units
        unit: unit
        precision: decimal(2)
        aggregation: sum
      - mpn: PEAK
        name: Peak
        unit: unit
        precision: integer
        aggregation: max
`

const testProduct = "PRD-TEST-0001"

// testEnv is an embedded JetStream server, a provisioned connection and the test catalog.
type testEnv struct {
	t           *testing.T
	srv         *natsembed.Server
	conn        *bus.Conn
	partitions  int
	catalogPath string
	catalog     *events.Catalog
}

func newTestEnv(t *testing.T, partitions int) *testEnv {
	t.Helper()
	return newTestEnvTopology(t, bus.Topology{Partitions: partitions})
}

// newTestEnvTopology is newTestEnv provisioning top (e.g. a short USAGE_EVENTS MaxAge).
func newTestEnvTopology(t *testing.T, top bus.Topology) *testEnv {
	t.Helper()
	srv := natsembedtest.Start(t)
	env := &testEnv{t: t, srv: srv, partitions: top.Partitions}
	env.catalogPath = filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(env.catalogPath, []byte(testCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := events.LoadCatalog(env.catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	env.catalog = c
	env.conn = connectTopology(t, srv.URL(), top)
	return env
}

// connect opens a provisioned connection closed at the end of the test.
func connect(t *testing.T, url string, partitions int) *bus.Conn {
	t.Helper()
	return connectTopology(t, url, bus.Topology{Partitions: partitions})
}

// connectTopology opens a connection, provisions top and closes the connection at the end of the test.
func connectTopology(t *testing.T, url string, top bus.Topology) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: url, Name: "aggregator-test", Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, top); err != nil {
		t.Fatal(err)
	}
	return conn
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// testOptions are worker options with short intervals; ticks are off unless a test turns them on.
func (e *testEnv) testOptions(member string) Options {
	return Options{
		MemberID: member, Catalog: e.catalog, Partitions: e.partitions,
		CommitInterval: 50 * time.Millisecond, CommitMessages: 20,
		SnapshotInterval: time.Second, SnapshotEvents: 200,
		Heartbeat: 200 * time.Millisecond, LeaseTTL: time.Second,
		NoTicks: true, Logger: quietLogger(),
	}
}

// startWorker runs an in-process worker until the returned stop function is called (or the test ends).
func startWorker(t *testing.T, conn Bus, o Options) (stop func()) {
	t.Helper()
	w, err := New(conn, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once atomic.Bool
	stop = func() {
		if once.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker %s: %v", o.MemberID, err)
		}
	}
	t.Cleanup(stop)
	return stop
}

var packetSeq atomic.Int64

// usageEvent is a valid event of the test product.
func usageEvent(id, sub, item, qty string, at time.Time) events.Event {
	return events.Event{
		SpecVersion: events.SpecVersion, ID: id, Source: "test", Type: events.EventType, Subject: sub, Time: at.UTC(),
		Data: events.Usage{Product: testProduct, Item: item, Quantity: events.MustDecimal(qty)},
	}
}

// publishEvents publishes evs as ingest does: one packet per partition, sorted by key.
func (e *testEnv) publishEvents(evs ...events.Event) {
	e.t.Helper()
	groups := map[int][]events.Event{}
	for _, ev := range evs {
		p := events.Partition(ev.Subject, e.partitions)
		groups[p] = append(groups[p], ev)
	}
	for p, g := range groups {
		events.SortByKey(g)
		e.publishRaw(p, events.KindEvents, events.EncodePacket(g))
	}
}

// publishRaw publishes one message of the given kind on usage.events.<p>.
func (e *testEnv) publishRaw(p int, kind string, data []byte) uint64 {
	e.t.Helper()
	h := bus.Header{events.HeaderKind: []string{kind}, bus.HeaderMsgID: []string{"test-" + strconv.FormatInt(packetSeq.Add(1), 10)}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := e.conn.Publish(ctx, bus.Msg{Subject: subjects.Events(p), Header: h, Data: data})
	if err != nil {
		e.t.Fatal(err)
	}
	return ack.Seq
}

// closedEventTime returns an instant of a period that has closed (waiting for one if needed) but closed after
// USAGE_EVENTS was created: events of periods closed before it are too old for the fold (nothing marks them).
func (e *testEnv) closedEventTime() time.Time {
	e.t.Helper()
	at := e.created().Truncate(time.Second).Add(time.Second)
	if late := time.Now().Add(-3 * time.Second); late.After(at) {
		at = late
	}
	sleepUntil(at.Truncate(time.Second).Add(1600 * time.Millisecond))
	return at
}

// created is the creation time of USAGE_EVENTS.
func (e *testEnv) created() time.Time {
	e.t.Helper()
	c, err := e.conn.StreamCreated(context.Background(), bus.StreamEvents)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// tickAll publishes a tick on every partition.
func (e *testEnv) tickAll() {
	for p := range e.partitions {
		e.publishRaw(p, events.KindTick, nil)
	}
}

// waitCaughtUp waits until every partition's committed progress covers its last source message.
func waitCaughtUp(t *testing.T, conn *bus.Conn, partitions int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for p := range partitions {
		end := lastSeq(t, conn, bus.StreamEvents, subjects.Events(p))
		for {
			prog, ok := lastProgress(t, conn, p)
			if end == 0 || ok && prog.To >= end && prog.complete() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("partition %d: progress %+v does not reach %d in %v", p, prog, end, timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func lastSeq(t *testing.T, conn *bus.Conn, stream, subject string) uint64 {
	t.Helper()
	m, err := conn.LastMsg(context.Background(), stream, subject)
	if errors.Is(err, bus.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return m.Seq
}

func lastProgress(t *testing.T, conn *bus.Conn, p int) (progress, bool) {
	t.Helper()
	m, err := conn.LastMsg(context.Background(), bus.StreamAgg, subjects.Progress(p))
	if errors.Is(err, bus.ErrNotFound) {
		return progress{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	prog, err := decodeProgress(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	return prog, true
}

// sumsBySubscription adds closed values and delta adjustments of sum items per subscription.
func sumsBySubscription(records []events.PeriodRecord, item string) map[string]events.Decimal {
	sums := map[string]events.Decimal{}
	for _, r := range records {
		if r.Item != item {
			continue
		}
		sums[r.Subscription] = sums[r.Subscription].Add(r.Quantity)
	}
	return sums
}
