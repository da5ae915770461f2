package submitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// The test world: the emulator's sample product and contract, P partitions.
const (
	testProduct    = "PRD-000-000-001"
	testContract   = "CRD-00000-00000-00001"
	testPartitions = 4
	testAPIKey     = "SU-000-000-000:test-key"
	// testListLag is the client's list lag in tests: a quarter of the step timeout of their 2s leases.
	testListLag = 250 * time.Millisecond
)

// testItems are the sample product's items and how their test quantities look.
var testItems = []string{"CPU_HOURS", "STORAGE_GB", "API_CALLS"}

const testCatalogYAML = `products:
  - id: PRD-000-000-001
    name: Metered Cloud
    schema: QT
    currency: USD
    contracts: [CRD-00000-00000-00001]
    period: {kind: daily}
    asset_search: asset.id
    items:
      - {mpn: CPU_HOURS, name: CPU hours, unit: hour, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE_GB, name: Storage, unit: GB, precision: decimal(2), aggregation: max}
      - {mpn: API_CALLS, name: API calls, unit: call, precision: integer, aggregation: count}
`

func init() { otel.SetTextMapPropagator(telemetry.Propagator()) }

func testCatalog(t testing.TB) *events.Catalog {
	t.Helper()
	c, err := events.ParseCatalog([]byte(testCatalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testEnv is an embedded JetStream, the Connect emulator behind httptest, and a writer of aggregator output.
type testEnv struct {
	t           *testing.T
	srv         *natsembed.Server
	conn        *bus.Conn
	emu         *connectemu.Emulator
	api         *httptest.Server
	catalog     *events.Catalog
	catalogPath string
	agg         *aggWriter
	ledger      *ledger.Store
	kv          *bus.KV // the ledger bucket, for what an operator does by hand
	incarnation int
	batches     int // late batches committed (lateBatches)
}

func newTestEnv(t *testing.T, provider connectemu.ProviderPolicy) *testEnv {
	t.Helper()
	return newTestEnvWith(t, connectemu.Options{Provider: provider})
}

// newTestEnvWith is newTestEnv with an emulator built from o.
func newTestEnvWith(t *testing.T, o connectemu.Options) *testEnv {
	t.Helper()
	env := &testEnv{t: t, srv: natsembedtest.Start(t), catalog: testCatalog(t)}
	env.conn = connectBus(t, env.srv.URL())
	env.emu = connectemu.New(o)
	env.api = httptest.NewServer(env.emu.Handler())
	t.Cleanup(func() { env.api.Close(); _ = env.emu.Close() })
	env.agg = &aggWriter{conn: env.conn, fences: map[int]uint64{}}
	kv, err := env.conn.KV(context.Background(), bus.BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	env.ledger, env.kv = ledger.New(kv), kv
	env.catalogPath = filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(env.catalogPath, []byte(testCatalogYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return env
}

func connectBus(t *testing.T, url string) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: url, Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: testPartitions}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// seedAssets makes subscriptions known to the emulator as assets of the test product.
func (env *testEnv) seedAssets(subs ...string) {
	assets := make([]connectemu.CatalogAsset, len(subs))
	for i, s := range subs {
		assets[i] = connectemu.CatalogAsset{ID: s, Product: testProduct}
	}
	if err := env.emu.Seed(&connectemu.Catalog{Assets: assets}); err != nil {
		env.t.Fatal(err)
	}
}

func (env *testEnv) connectURL() string { return env.api.URL + "/public/v1" }

// options are fast test settings; each start is a new incarnation (member id), like a restarted process.
func (env *testEnv) options() Options {
	env.incarnation++
	return Options{
		Catalog: env.catalog, ConnectURL: env.connectURL(), ConnectAPIKey: testAPIKey,
		MemberID: fmt.Sprintf("test-%d", env.incarnation), Concurrency: 4, LeaseTTL: 2 * time.Second,
		ScanInterval: 200 * time.Millisecond, FollowMaxInterval: 300 * time.Millisecond,
		RetryMaxInterval: 500 * time.Millisecond, AckWait: 2 * time.Second,
		Retry: usageapi.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaxInterval: 200 * time.Millisecond,
			MaxElapsedTime: 2 * time.Second, ListLag: testListLag},
		Logger: slog.New(slog.NewTextHandler(env.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// start runs a submitter in-process; stop cancels it and waits until Run has returned.
func (env *testEnv) start(o Options) (stop func()) {
	env.t.Helper()
	return env.startOn(env.conn, o)
}

// startOn runs a submitter in-process on b (the test's JetStream, maybe with faults of its own).
func (env *testEnv) startOn(b Bus, o Options) (stop func()) {
	env.t.Helper()
	s, err := New(b, o)
	if err != nil {
		env.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				env.t.Errorf("Run: %v", err)
			}
		})
	}
	env.t.Cleanup(stop)
	return stop
}

// entry reads a ledger entry; nil when there is none.
func (env *testEnv) entry(id ledger.FileID) *ledger.Entry {
	e, _, err := env.ledger.Get(context.Background(), id.Key())
	if errors.Is(err, bus.ErrNotFound) {
		return nil
	}
	if err != nil {
		env.t.Fatal(err)
	}
	return e
}

// waitState polls the ledger until the entry is in one of the states.
func (env *testEnv) waitState(id ledger.FileID, timeout time.Duration, states ...ledger.State) *ledger.Entry {
	env.t.Helper()
	var e *ledger.Entry
	waitFor(env.t, timeout, "ledger entry "+id.Key()+" in "+fmt.Sprint(states), func() bool {
		e = env.entry(id)
		for _, s := range states {
			if e != nil && e.State == s {
				return true
			}
		}
		if e != nil && e.State.Terminal() {
			env.t.Fatalf("%s ended %s, not %v: reason %q, last error %q", id.Key(), e.State, states, e.Reason, e.LastError)
		}
		return false
	})
	return e
}

// waitFor polls cond until it holds; the test fails when the deadline passes first.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// period returns the test day n (UTC).
func period(n int) events.Period {
	start := time.Date(2026, 11, 1+n, 0, 0, 0, 0, time.UTC)
	return events.Period{Start: start, End: start.AddDate(0, 0, 1)}
}

// subscriptions returns n subscription (asset) ids for a test.
func subscriptions(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("AS-%s-%04d", prefix, i+1)
	}
	return out
}

// closedRecord is the closed record of (sub, item) in pd, with a quantity that fits the item's precision.
func closedRecord(pd events.Period, sub, item string, i int) events.PeriodRecord {
	qty := map[string]string{"CPU_HOURS": "%d.1234", "STORAGE_GB": "%d.5", "API_CALLS": "%d"}[item]
	return events.PeriodRecord{Kind: events.RecordClosed, Product: testProduct, Contract: testContract,
		Subscription: sub, Item: item, PeriodStart: pd.Start, PeriodEnd: pd.End, Mode: events.ModeTotal,
		Aggregation: aggregationOf(item), Quantity: events.MustDecimal(fmt.Sprintf(qty, 10+i)), Events: 3,
		Partition: events.Partition(sub, testPartitions)}
}

func aggregationOf(item string) events.Aggregation {
	return map[string]events.Aggregation{"CPU_HOURS": events.AggregationSum, "STORAGE_GB": events.AggregationMax,
		"API_CALLS": events.AggregationCount}[item]
}

// closePeriod writes, as the aggregator does, the closed records of every subscription × item of pd and
// one mark per partition, and returns the records.
func (env *testEnv) closePeriod(pd events.Period, subs []string) []events.PeriodRecord {
	env.t.Helper()
	var all []events.PeriodRecord
	for i, sub := range subs {
		for _, item := range testItems {
			all = append(all, closedRecord(pd, sub, item, i))
		}
	}
	env.agg.close(env.t, pd, all)
	return all
}

// aggWriter commits aggregator output to USAGE_AGG exactly as the aggregator does: per partition, one
// atomic batch fenced on the partition's last progress record: progress, records (JSON lines packed per
// subject), adjustments, then marks; every message with its kind and a trace context.
type aggWriter struct {
	conn   *bus.Conn
	tracer trace.Tracer // of the commit spans whose context the messages carry; nil: the global one
	mu     sync.Mutex
	fences map[int]uint64
	source uint64
}

// close commits closed records (of one contract) and, per partition, the mark of pd counting them.
func (w *aggWriter) close(t testing.TB, pd events.Period, records []events.PeriodRecord) {
	t.Helper()
	byPart := map[int][]events.PeriodRecord{}
	for _, r := range records {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	contract := testContract
	if len(records) > 0 {
		contract = records[0].Contract
	}
	for p := range testPartitions {
		mark := events.PartitionMark{Product: testProduct, Contract: contract, PeriodStart: pd.Start, PeriodEnd: pd.End,
			Partition: p, Partitions: testPartitions, Records: len(byPart[p])}
		w.commit(t, p, byPart[p], nil, []events.PartitionMark{mark})
	}
}

// adjust commits adjustment records, each in its subscription's partition.
func (w *aggWriter) adjust(t testing.TB, adjustments []events.PeriodRecord) {
	t.Helper()
	byPart := map[int][]events.PeriodRecord{}
	for _, r := range adjustments {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	for p, recs := range byPart {
		w.commit(t, p, nil, recs, nil)
	}
}

func (w *aggWriter) commit(t testing.TB, p int, closed, adjustments []events.PeriodRecord, marks []events.PartitionMark) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	tracer := w.tracer
	if tracer == nil {
		tracer = otel.Tracer("test-aggregator")
	}
	ctx, span := tracer.Start(context.Background(), "process "+subjects.EventsTemplate)
	defer span.End()
	w.source++
	prog := map[string]any{"partition": p, "from": w.source, "to": w.source, "part": 1, "parts": 1}
	batch := []bus.Msg{aggMsg(ctx, subjects.Progress(p), events.KindProgress, prog)}
	batch = append(batch, packed(ctx, subjects.Records, events.KindRecords, p, closed)...)
	batch = append(batch, packed(ctx, subjects.Adjustments, events.KindAdjustments, p, adjustments)...)
	for _, m := range marks {
		batch = append(batch, aggMsg(ctx, subjects.Marks.Subject(m.Product, m.Contract, m.PeriodStart, p), events.KindMark, m))
	}
	last, err := w.conn.CommitAtomic(ctx, batch, w.fences[p])
	if err != nil {
		t.Fatalf("commit partition %d: %v", p, err)
	}
	w.fences[p] = last - uint64(len(batch)-1)
}

// packed packs records as JSON lines, one message per subject (period) in order of first appearance.
func packed(ctx context.Context, output subjects.Output, kind string, p int, records []events.PeriodRecord) []bus.Msg {
	var order []string
	lines := map[string][]byte{}
	for _, r := range records {
		subject := output.Subject(r.Product, r.Contract, r.PeriodStart, p)
		if _, ok := lines[subject]; !ok {
			order = append(order, subject)
		}
		b, _ := json.Marshal(r)
		lines[subject] = append(append(lines[subject], b...), '\n')
	}
	msgs := make([]bus.Msg, 0, len(order))
	for _, subject := range order {
		m := aggMsg(ctx, subject, kind, nil)
		m.Data = lines[subject]
		msgs = append(msgs, m)
	}
	return msgs
}

func aggMsg(ctx context.Context, subject, kind string, v any) bus.Msg {
	h := bus.Header{events.HeaderKind: []string{kind}}
	bus.InjectTrace(ctx, h)
	var data []byte
	if v != nil {
		data, _ = json.Marshal(v)
	}
	return bus.Msg{Subject: subject, Header: h, Data: data}
}

// waitSupplements waits until every adjustment of pd is covered by a supplement and every supplement is
// accepted (or empty), and returns the supplements' entries in revision order.
func (env *testEnv) waitSupplements(pd events.Period, timeout time.Duration) []*ledger.Entry {
	env.t.Helper()
	ctx := context.Background()
	filter := subjects.Adjustments.Period(testProduct, testContract, pd.Start)
	last, err := env.conn.LastMsg(ctx, bus.StreamAgg, filter)
	if err != nil {
		env.t.Fatal(err)
	}
	var out []*ledger.Entry
	waitFor(env.t, timeout, "supplements of "+pd.Key(), func() bool {
		idx, _, err := env.ledger.Index(ctx, ledger.SupplementIndexKey(testProduct, testContract, pd.Start))
		if err != nil || idx.Covered < last.Seq {
			return false
		}
		out = out[:0]
		for rev := 1; rev < idx.Next; rev++ {
			e := env.entry(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Revision: rev, Part: 1})
			if e == nil || (e.State != ledger.StateAccepted && e.State != ledger.StateEmpty) {
				return false
			}
			out = append(out, e)
		}
		return true
	})
	return out
}

// logBuffer collects a submitter's log (warnings and errors) for a test to read while it runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logger writes warnings and errors to l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
