package aggregator

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// retentionTopology keeps USAGE_EVENTS messages 3 s only, so committed events age out within a test.
var retentionTopology = bus.Topology{Partitions: 1, EventsMaxAge: 3 * time.Second, DedupWindow: time.Second}

// noProvision keeps a child from provisioning the default topology over the test's short retention.
const noProvision = "USAGEPIPE_PROVISION=false"

// waitAgedOut waits until USAGE_EVENTS no longer holds message seq (MaxAge removed it).
func waitAgedOut(t *testing.T, conn *bus.Conn, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := conn.GetMsg(context.Background(), bus.StreamEvents, seq)
		if errors.Is(err, bus.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d still in USAGE_EVENTS after 30 s", seq)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIdleSnapshotOutlivesRetention commits an event of a period that closes long after the event has aged
// out of USAGE_EVENTS, lets the partition go quiet, SIGKILLs the worker and starts another: the state that
// only a snapshot can now hold must still close the period with the event.
func TestIdleSnapshotOutlivesRetention(t *testing.T) {
	t.Parallel()
	env := newTestEnvTopology(t, retentionTopology)
	logPath := filepath.Join(t.TempDir(), "worker.log")
	dumpLogOnFailure(t, logPath)
	at := time.Now().Truncate(time.Second).Add(6 * time.Second) // the period closes 6.5 to 7.5 s from now
	w := env.startChild("quiet", logPath, noProvision)
	env.publishEvents(usageEvent("r1", "AS-1", "UNITS", "2.50", at))
	waitCaughtUp(t, env.conn, 1, 30*time.Second)
	waitAgedOut(t, env.conn, 1)
	w.kill()
	env.startChild("quiet", logPath, noProvision)
	sleepUntil(at.Add(1600 * time.Millisecond))
	env.tickAll()
	waitCaughtUp(t, env.conn, 1, 30*time.Second)
	out := readOutputs(t, env.conn)
	if r := findRecord(out, "AS-1", "UNITS", 0); r == nil || r.Quantity.Cmp(events.MustDecimal("2.5")) != 0 {
		t.Fatalf("closed AS-1 UNITS: want 2.5 from the aged-out event, have %+v (%d marks)", r, len(out.marks))
	}
}

// TestReplayGapRefused makes the replay a runner needs incomplete: the events after its newest snapshot aged
// out, then no snapshot at all while the stream no longer starts at 1, then (the race) the messages age out
// after the runner checked them but before it read them. Each time the runner must refuse with ErrReplayGap
// instead of folding from a state that misses committed events.
func TestReplayGapRefused(t *testing.T) {
	t.Parallel()
	env := newTestEnvTopology(t, retentionTopology)
	at := time.Now().Add(time.Minute)
	r := testRunner(t, env, env.conn, "first")
	r.opts.SnapshotEvents = 1 // the first commit stores a snapshot at its end
	env.publishEvents(usageEvent("g1", "AS-1", "UNITS", "1", at))
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.opts.SnapshotEvents = 1 << 30
	env.publishEvents(usageEvent("g2", "AS-1", "UNITS", "2", at))
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.awaitSnapshot() // stored in the background since the commit
	snaps, err := r.snapshotSeqs(context.Background())
	if err != nil || len(snaps) != 1 || snaps[0].seq != 1 {
		t.Fatalf("want one snapshot at 1, have %v (%v)", snaps, err)
	}
	early := newRunner(r.deps, 0) // checks the replay while message 2 is still there
	if err := early.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitAgedOut(t, env.conn, 2)
	if err := startErr(t, env); !errors.Is(err, ErrReplayGap) {
		t.Fatalf("snapshot at 1, base 2, message 2 aged out: want ErrReplayGap, have %v", err)
	}
	if err := env.conn.DeleteObject(context.Background(), bus.BucketSnapshots, snaps[0].name(0)); err != nil {
		t.Fatal(err)
	}
	if err := startErr(t, env); !errors.Is(err, ErrReplayGap) {
		t.Fatalf("no snapshot, base 2, the stream no longer starts at 1: want ErrReplayGap, have %v", err)
	}
	env.publishEvents(usageEvent("g3", "AS-1", "UNITS", "3", at))
	feedRunner(t, early)
	if err := early.commit(context.Background()); !errors.Is(err, ErrReplayGap) {
		t.Fatalf("replay gap opened after the start check: want ErrReplayGap, have %v", err)
	}
}

// startErr starts a new runner of partition 0 and returns its start error.
func startErr(t *testing.T, env *testEnv) error {
	t.Helper()
	d, err := newDeps(env.conn, env.testOptions("next"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newRunner(d, 0).start(context.Background())
}

// TestUncoveredAgeAlert checks the uncovered-age gauge and warning: committed events that no snapshot covers
// grow older, past half the MaxAge the runner warns, and the snapshot of the idle base brings the age to 0.
func TestUncoveredAgeAlert(t *testing.T) {
	env := newTestEnv(t, 1)
	reader := sdkmetric.NewManualReader()
	var logs lockedBuffer
	o := env.testOptions("alert")
	o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	o.EventsMaxAge, o.Logger = 2*time.Second, slog.New(slog.NewJSONHandler(&logs, nil))
	r := startedRunner(t, env, o)
	env.publishEvents(usageEvent("u1", "AS-1", "UNITS", "1", time.Now().Add(time.Minute)))
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	later := r.uncoveredSince.Add(1500 * time.Millisecond)
	r.sampleCoverage(context.Background(), later)
	if age := uncoveredAge(t, reader); age != 1.5 {
		t.Errorf("uncovered age %v s, want 1.5", age)
	}
	if !strings.Contains(logs.String(), "no snapshot covers source messages older than half") {
		t.Errorf("no warning at 1.5 s uncovered with MaxAge 2 s; log:\n%s", logs.String())
	}
	if err := r.coverBase(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	r.sampleCoverage(context.Background(), later)
	if age := uncoveredAge(t, reader); age != 0 || r.snapSeq != r.base {
		t.Errorf("after covering the base: uncovered age %v s (want 0), snapshot %d, base %d", age, r.snapSeq, r.base)
	}
}

// uncoveredAge reads partition 0's uncovered-age gauge.
func uncoveredAge(t *testing.T, reader *sdkmetric.ManualReader) float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[float64]); ok && m.Name == "usagepipe.aggregator.snapshot.uncovered_age" {
				for _, dp := range g.DataPoints {
					return dp.Value
				}
			}
		}
	}
	t.Fatal("no uncovered age gauge")
	return 0
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReplayGapCoversInterruptedCommit: an interrupted commit's source messages are part of the replay even
// when the snapshot is at the commit's base; if they aged out, the runner must refuse to re-derive it.
func TestReplayGapCoversInterruptedCommit(t *testing.T) {
	t.Parallel()
	env := newTestEnvTopology(t, retentionTopology)
	env.publishEvents(usageEvent("i1", "AS-1", "UNITS", "1", time.Now().Add(time.Minute)))
	waitAgedOut(t, env.conn, 1)
	d, err := newDeps(env.conn, env.testOptions("resumer"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, 0)
	r.resume = &progress{From: 1, To: 1, Part: 1, Parts: 2}
	if err := r.checkReplay(context.Background()); !errors.Is(err, ErrReplayGap) {
		t.Fatalf("interrupted commit 1..1 aged out, snapshot at its base 0: want ErrReplayGap, have %v", err)
	}
}
