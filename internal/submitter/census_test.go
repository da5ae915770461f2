package submitter

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestOpenDeadLettersGauge: usagepipe_dead_letters_open shows every stage's reasons from zero, counts a dead
// letter once it is stored, and goes back to zero once it is replayed (a dead letter written is still
// counted by usagepipe_dead_letters_total; the gauge says what waits for an operator).
func TestOpenDeadLettersGauge(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	metrics := sdkmetric.NewManualReader()
	o := env.options()
	o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(metrics))
	env.start(o)
	gauge := func(stage, reason string) (int64, bool) {
		var rm metricdata.ResourceMetrics
		if err := metrics.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		return gaugeValue(rm, "usagepipe.dead_letters.open", map[string]string{"stage": stage, "reason": reason})
	}
	waitFor(t, 20*time.Second, "the first census", func() bool { _, ok := gauge("ingest", "unknown_product"); return ok })
	for _, k := range [][2]string{{"ingest", "unknown_product"}, {"ingest", "too_old"}, {"aggregator", "bad_json"},
		{"aggregator", "unknown_kind"}, {"submitter", "connect_invalid"}, {"submitter", "unwritable"}} {
		if n, ok := gauge(k[0], k[1]); !ok || n != 0 {
			t.Errorf("%v: %d (present %t), want 0 from the start", k, n, ok)
		}
	}
	ev := events.Event{SpecVersion: events.SpecVersion, ID: "g-1", Source: "/test", Type: events.EventType, Subject: "AS-0900-0000-0001",
		Time: time.Now().UTC().Add(-time.Minute), Data: events.Usage{Product: testProduct, Item: "CPU_HOURS", Quantity: events.MustDecimal("2")}}
	keep(t, env, ev, events.ReasonUnknownProduct)
	waitFor(t, 20*time.Second, "the gauge to count the kept rejection", func() bool { n, _ := gauge("ingest", "unknown_product"); return n == 1 })
	letters, err := deadletter.New(env.conn, env.ledger, env.catalog) // the catalog knows the product: the cause is fixed
	if err != nil {
		t.Fatal(err)
	}
	rep, err := letters.Replay(context.Background(), deadletter.Filter{}, deadletter.ReplayOptions{Execute: true, Actor: ledger.Actor{Name: "op"}})
	if err != nil || len(rep.Items) != 1 || !rep.Items[0].Executed {
		t.Fatalf("replay %+v, %v", rep, err)
	}
	waitFor(t, 20*time.Second, "the gauge back at zero", func() bool { n, ok := gauge("ingest", "unknown_product"); return ok && n == 0 })
}

// keep stores ev in USAGE_DLQ as ingest keeps a rejection for reason.
func keep(t *testing.T, env *testEnv, ev events.Event, reason events.Reason) {
	t.Helper()
	raw, _ := json.Marshal(ev)
	dl := events.DeadLetter{Stage: events.StageIngest, Reason: reason, Message: string(reason),
		Subject: subjects.Events(events.Partition(ev.Subject, testPartitions)), At: time.Now().UTC()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	if _, err := env.conn.Publish(context.Background(), bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, reason), Data: data}); err != nil {
		t.Fatal(err)
	}
}

// gaugeValue is the value of the gauge's data point with exactly these attributes, and whether there is one.
func gaugeValue(rm metricdata.ResourceMetrics, name string, attrs map[string]string) (int64, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			g, ok := m.Data.(metricdata.Gauge[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range g.DataPoints {
				if matches(dp.Attributes, attrs) {
					return dp.Value, true
				}
			}
		}
	}
	return 0, false
}
