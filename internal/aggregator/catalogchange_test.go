package aggregator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// catalogWithX is the test catalog with one more item, X, that the next catalog removes.
var catalogWithX = strings.Replace(testCatalog, `      - mpn: PEAK`, `      - mpn: X
        name: Removed later
        unit: unit
        precision: integer
        aggregation: sum
      - mpn: PEAK`, 1)

func parseCatalog(t *testing.T, yaml string) *events.Catalog {
	t.Helper()
	c, err := events.ParseCatalog([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// manualRunner is a started runner of partition 0 over conn with options o that commits only when told to.
func manualRunner(t *testing.T, conn Bus, o Options) *runner {
	t.Helper()
	o.CommitMessages, o.CommitOutputs = 1<<30, 1<<30
	d, err := newDeps(conn, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, 0)
	if err := r.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCatalogChangeKeepsReplayWindow commits three events of item X, the first one covered by a snapshot,
// then runs a worker whose catalog no longer has X: the events after the snapshot were committed under the
// old catalog, so the replay must fold them with it (and not dead-letter them) before the new catalog applies,
// and the period closes with all three.
func TestCatalogChangeKeepsReplayWindow(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	at := time.Now().Truncate(time.Second).Add(3 * time.Second)
	o := env.testOptions("old-catalog")
	o.Catalog = parseCatalog(t, catalogWithX)
	r := manualRunner(t, env.conn, o)
	r.opts.SnapshotEvents = 1 // the first commit stores a snapshot at its end
	for i, id := range []string{"x1", "x2", "x3"} {
		env.publishEvents(usageEvent(id, "AS-1", "X", "1", at))
		feedRunner(t, r)
		if err := r.commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			r.opts.SnapshotEvents = 1 << 30
		}
	}
	r.awaitSnapshot() // stored in the background since the commit
	if seqs, err := r.snapshotSeqs(context.Background()); err != nil || len(seqs) != 1 || seqs[0].seq != 1 {
		t.Fatalf("want one snapshot at 1, have %v (%v)", seqs, err)
	}
	stop := startWorker(t, env.conn, env.testOptions("new-catalog"))
	sleepUntil(at.Add(1600 * time.Millisecond))
	env.tickAll()
	waitCaughtUp(t, env.conn, 1, 30*time.Second)
	stop()
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	if x := findRecord(out, "AS-1", "X", 0); x == nil || x.Quantity.String() != "3" || x.Events != 3 {
		t.Errorf("closed AS-1 X: want 3 from 3 events, have %+v", x)
	}
	for _, d := range out.deadLetters {
		t.Errorf("dead letter %s of seq %d: the replayed events were committed under the old catalog", d.Reason, d.Seq)
	}
}

// TestInterruptedCommitResumesUnderChangedCatalog crashes a commit of several parts after its first one, then
// runs a worker whose catalog no longer has item X: the rest of the commit must be exactly what the old
// catalog derived (X's closed record, no dead letter), each message once.
func TestInterruptedCommitResumesUnderChangedCatalog(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	cb := &crashBus{Bus: env.conn}
	o := env.testOptions("old-catalog")
	o.Catalog, o.partMessages = parseCatalog(t, catalogWithX), 1
	r := manualRunner(t, cb, o)
	at := time.Now().Truncate(time.Second).Add(2 * time.Second)
	x := usageEvent("x1", "AS-2", "X", "5", at)
	x.Data.Contract = "CRD-T2" // a record message of its own, after AS-1's
	env.publishEvents(usageEvent("u1", "AS-1", "UNITS", "1", at), x)
	sleepUntil(at.Add(1600 * time.Millisecond))
	env.tickAll()
	feedRunner(t, r)
	if err := r.commit(context.Background()); err == nil || !cb.crashed.Load() {
		t.Fatalf("want the injected crash after the first part, have %v", err)
	}
	stop := startWorker(t, env.conn, env.testOptions("new-catalog"))
	waitCaughtUp(t, env.conn, 1, 30*time.Second)
	stop()
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	if r := findRecord(out, "AS-2", "X", 0); r == nil || r.Quantity.String() != "5" {
		t.Errorf("closed AS-2 X: want 5, have %+v", r)
	}
	if r := findRecord(out, "AS-1", "UNITS", 0); r == nil || r.Quantity.String() != "1" {
		t.Errorf("closed AS-1 UNITS: want 1, have %+v", r)
	}
	for _, d := range out.deadLetters {
		t.Errorf("dead letter %s of seq %d: the commit was derived under the old catalog", d.Reason, d.Seq)
	}
	for _, m := range out.marks {
		if m.Contract == "CRD-T2" && m.PeriodStart.Equal(at) && m.Records != 1 {
			t.Errorf("mark of CRD-T2 %v covers %d records, want X's one", at, m.Records)
		}
	}
}
