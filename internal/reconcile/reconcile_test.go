package reconcile

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/submitter"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

// The test world is the emulator's sample catalog: one QT product, its contract and assets.
const (
	product    = "PRD-000-000-001"
	contract   = "CRD-00000-00000-00001"
	partitions = 2
	apiKey     = "SU-000-000-000:reconcile-test"
)

const catalogYAML = `products:
  - id: PRD-000-000-001
    name: Metered Cloud
    schema: QT
    currency: USD
    contracts: [CRD-00000-00000-00001]
    period: {kind: daily}
    items:
      - {mpn: CPU_HOURS, name: CPU hours, unit: hour, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE_GB, name: Storage, unit: GB, precision: decimal(2), aggregation: max}
`

var day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// world is an embedded JetStream with the topology, and the emulator behind httptest.
type world struct {
	t      *testing.T
	conn   *bus.Conn
	client *usageapi.Client
	cat    *events.Catalog
	emu    *connectemu.Emulator
	url    string
}

func newWorld(t *testing.T) *world { return newWorldOf(t, catalogYAML) }

// newWorldOf is newWorld with another catalog of the emulator's sample products.
func newWorldOf(t *testing.T, catalog string) *world {
	t.Helper()
	cat, err := events.ParseCatalog([]byte(catalog))
	if err != nil {
		t.Fatal(err)
	}
	srv := natsembedtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	api := usageapitest.NewServer(t, connectemu.Options{Provider: connectemu.ProviderPolicy{Auto: true}})
	return &world{t: t, conn: conn, cat: cat, emu: api.Emulator, url: api.URL, client: api.Client}
}

// record is an aggregator record of the test period.
func record(asset, item string, rev int, mode events.ValueMode, qty string) events.PeriodRecord {
	kind, agg := events.RecordClosed, events.AggregationSum
	if rev > 0 {
		kind = events.RecordAdjustment
	}
	if item == "STORAGE_GB" {
		agg = events.AggregationMax
	}
	return events.PeriodRecord{Kind: kind, Product: product, Contract: contract, Subscription: asset, Item: item,
		PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Revision: rev, Aggregation: agg, Mode: mode,
		Quantity: events.MustDecimal(qty), Events: 1, Partition: events.Partition(asset, partitions)}
}

// publish writes records (closed or adjustments) as the aggregator does: JSON lines per partition subject.
func (w *world) publish(recs ...events.PeriodRecord) {
	w.t.Helper()
	for _, r := range recs {
		kind, output := events.KindRecords, subjects.Records
		if r.Kind == events.RecordAdjustment {
			kind, output = events.KindAdjustments, subjects.Adjustments
		}
		w.send(output, r.PeriodStart, r.Partition, kind, r)
	}
}

// mark writes every partition's mark of the test period, counting the closed records of each.
func (w *world) mark(closed []events.PeriodRecord) {
	w.t.Helper()
	for p := range partitions {
		n := 0
		for _, r := range closed {
			if r.Partition == p {
				n++
			}
		}
		w.send(subjects.Marks, day, p, events.KindMark, events.PartitionMark{Product: product, Contract: contract,
			PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Partition: p, Partitions: partitions, Records: n})
	}
}

func (w *world) send(output subjects.Output, start time.Time, p int, kind string, v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	subject := output.Subject(product, contract, start, p)
	msg := bus.Msg{Subject: subject, Header: bus.Header{events.HeaderKind: []string{kind}}, Data: append(b, '\n')}
	if _, err := w.conn.Publish(context.Background(), msg); err != nil {
		w.t.Fatal(err)
	}
}

// runSubmitter runs a submitter in-process until the returned stop is called.
func (w *world) runSubmitter() (stop func()) {
	w.t.Helper()
	s, err := submitter.New(w.conn, submitter.Options{Catalog: w.cat, ConnectURL: w.url, ConnectAPIKey: apiKey,
		MemberID: "reconcile-test", ScanInterval: 200 * time.Millisecond, FollowMaxInterval: 300 * time.Millisecond,
		RetryMaxInterval: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stop = func() {
		if cancel != nil {
			cancel()
			cancel = nil
			if err := <-done; err != nil {
				w.t.Errorf("submitter: %v", err)
			}
		}
	}
	w.t.Cleanup(stop)
	return stop
}

func (w *world) reconcile() *Report { return w.reconcileWith(Options{}) }

// reconcileWith runs Reconcile with o and the world's catalog.
func (w *world) reconcileWith(o Options) *Report {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.Catalog = w.cat
	r, err := Reconcile(ctx, w.conn, w.client, o)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// waitSettled polls Reconcile until the ledger has no moving entry and nothing differs.
func (w *world) waitSettled() *Report {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := w.reconcile()
		moving := 0
		for s, n := range r.LedgerStates {
			if !s.Terminal() {
				moving += n
			}
		}
		if r.Problems() == 0 && moving == 0 && r.Periods == 1 {
			return r
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			r.Write(&b, 0)
			w.t.Fatalf("not settled after 60s:\n%s", b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReconcileAgreesThenFindsWhatConnectLacks runs the real submitter over aggregator output, expects a
// clean reconciliation, then adds what the submitter never reports (it is stopped) and expects to see it.
func TestReconcileAgreesThenFindsWhatConnectLacks(t *testing.T) {
	w := newWorld(t)
	closed := []events.PeriodRecord{
		record("AS-0000-0000-0001", "CPU_HOURS", 0, events.ModeTotal, "10.5"),
		record("AS-0000-0000-0001", "STORAGE_GB", 0, events.ModeTotal, "3.25"),
		record("AS-0000-0000-0002", "CPU_HOURS", 0, events.ModeTotal, "7"),
		record("AS-0000-0000-0003", "STORAGE_GB", 0, events.ModeTotal, "1"),
	}
	w.publish(closed...)
	w.mark(closed)
	stop := w.runSubmitter()
	r := w.waitSettled()
	if r.Expected != len(closed) || r.Billed != len(closed) {
		t.Errorf("expected %d keys, billed %d, want %d each", r.Expected, r.Billed, len(closed))
	}
	stop()

	adj := record("AS-0000-0000-0001", "STORAGE_GB", 1, events.ModeReplace, "4")
	prev := events.MustDecimal("3.25")
	adj.Previous = &prev
	w.publish(adj, closed[2]) // a new revision, and a closed record stored a second time
	r = w.reconcile()
	if len(r.Findings) != 1 || len(r.AggDuplicates) != 1 {
		var b strings.Builder
		r.Write(&b, 0)
		t.Fatalf("want one finding and one duplicate revision:\n%s", b.String())
	}
	f := r.Findings[0]
	if f.Kind() != Lost || f.Key.Asset != "AS-0000-0000-0001" || f.Key.Item != "STORAGE_GB" ||
		!f.Want.Quantity.Equal(events.MustDecimal("4")) || !f.Have.Quantity.Equal(events.MustDecimal("3.25")) {
		t.Errorf("finding: %s", f.Difference)
	}
	if !strings.Contains(f.Ledger, "r0.p1 accepted") {
		t.Errorf("ledger note: %q", f.Ledger)
	}

	unmarked := record("AS-0000-0000-0002", "CPU_HOURS", 0, events.ModeTotal, "1")
	unmarked.PeriodStart, unmarked.PeriodEnd = day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)
	w.publish(unmarked) // closed records no partition marked, long after the period closed
	if r = w.reconcile(); len(r.Unmarked) != 1 || !strings.Contains(r.Unmarked[0], "marked by 0 of 2") {
		t.Errorf("unmarked: %q", r.Unmarked)
	}
}
