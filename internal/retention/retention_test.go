package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

const (
	product  = "PRD-RET"
	contract = "CRD-RET"
	durable  = "test-adjustments"
	parts    = 2
)

const testCatalog = `products:
  - id: PRD-RET
    name: Retained
    schema: QT
    currency: USD
    contracts: [CRD-RET]
    period: {kind: monthly}
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
`

type env struct {
	t      *testing.T
	ctx    context.Context
	conn   *bus.Conn
	ledger *ledger.Store
	cat    *events.Catalog
}

func newEnv(t *testing.T) *env {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	srv := natsembedtest.Start(t)
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: parts}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := events.ParseCatalog([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, conn: conn, ledger: l, cat: cat}
}

func month(m int) time.Time { return time.Date(2020, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }

func (e *env) publish(subject, kind string, v any) uint64 {
	e.t.Helper()
	data, _ := json.Marshal(v)
	h := bus.Header{}
	h.Set(events.HeaderKind, kind)
	ack, err := e.conn.Publish(e.ctx, bus.Msg{Subject: subject, Header: h, Data: append(data, '\n')})
	if err != nil {
		e.t.Fatal(err)
	}
	return ack.Seq
}

// closePeriod publishes a closed record and a mark per partition (records: how many each mark counts).
func (e *env) closePeriod(prod string, start time.Time, records int) {
	for p := range parts {
		if records > 0 {
			r := events.PeriodRecord{Kind: events.RecordClosed, Product: prod, Contract: contract, Subscription: fmt.Sprintf("AS-%d", p),
				Item: "UNITS", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Mode: events.ModeTotal, Quantity: events.MustDecimal("1")}
			e.publish(subjects.Records.Subject(prod, contract, start, p), events.KindRecords, r)
		}
		m := events.PartitionMark{Product: prod, Contract: contract, PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0),
			Partition: p, Partitions: parts, Records: records}
		e.publish(subjects.Marks.Subject(prod, contract, start, p), events.KindMark, m)
	}
}

// entry writes a ledger entry of revision rev of the period at start in state.
func (e *env) entry(start time.Time, rev int, state ledger.State) {
	e.t.Helper()
	id := ledger.FileID{Product: product, Contract: contract, PeriodStart: start, Revision: rev, Part: 1}
	x := &ledger.Entry{Key: id.Key(), Product: product, Contract: contract, PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0),
		Revision: rev, Part: 1, Parts: 1, State: state, ExternalID: id.ExternalID()}
	if _, err := e.ledger.Create(e.ctx, x); err != nil {
		e.t.Fatal(err)
	}
}

// counts is how many messages each subject of USAGE_AGG matching filter holds.
func (e *env) counts(stream, filter string) map[string]uint64 {
	e.t.Helper()
	c, err := e.conn.SubjectCounts(e.ctx, stream, filter)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) retainer(minAge time.Duration) *Retainer {
	e.t.Helper()
	r, err := New(e.conn, e.ledger, Options{MinAge: minAge, Catalog: e.cat, Partitions: parts, AdjustmentsConsumer: durable})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// ackAdjustmentsUpTo makes the adjustments consumer acknowledge every adjustment up to seq, and no other.
func (e *env) ackAdjustmentsUpTo(seq uint64) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	go func() {
		_ = e.conn.Consume(ctx, bus.StreamAgg, bus.ConsumeOptions{Durable: durable, Filters: []string{subjects.Adjustments.All()}},
			func(_ context.Context, d *bus.Delivery) {
				if d.Seq <= seq {
					_ = d.Ack(ctx)
				} else {
					_ = d.Nak(time.Hour)
				}
			})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if f, err := e.conn.AckFloor(e.ctx, bus.StreamAgg, durable); err == nil && f >= seq {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the adjustments consumer did not acknowledge up to %d", seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
}

// TestRetentionPurgesOnlyWhatIsNoLongerNeeded: billed periods lose their records and marks, billed
// supplements their adjustments (up to what the consumer acknowledged), empty periods past their age their
// marks (after the index notes it), each partition its progress below its oldest snapshot, and resolved dead
// letters go; a parked period, a period of a retired product, newer adjustments, the last progress record
// and open dead letters stay.
func TestRetentionPurgesOnlyWhatIsNoLongerNeeded(t *testing.T) {
	e := newEnv(t)
	e.closePeriod(product, month(1), 1) // billed
	e.entry(month(1), 0, ledger.StateAccepted)
	e.closePeriod(product, month(2), 1) // its file was rejected: parked
	e.entry(month(2), 0, ledger.StateRejected)
	e.closePeriod(product, month(3), 1) // billed, with a billed supplement and a newer adjustment
	e.entry(month(3), 0, ledger.StateAccepted)
	adj := events.PeriodRecord{Kind: events.RecordAdjustment, Product: product, Contract: contract, Subscription: "AS-0",
		Item: "UNITS", PeriodStart: month(3), PeriodEnd: month(4), Revision: 1, Mode: events.ModeDelta, Quantity: events.MustDecimal("1")}
	covered := e.publish(subjects.Adjustments.Subject(product, contract, month(3), 0), events.KindAdjustments, adj)
	adj.Revision = 2
	e.publish(subjects.Adjustments.Subject(product, contract, month(3), 0), events.KindAdjustments, adj)
	e.entry(month(3), 1, ledger.StateAccepted)
	if err := e.ledger.PutIndex(e.ctx, ledger.SupplementIndexKey(product, contract, month(3)), ledger.SupplementIndex{Next: 2, Covered: covered}, 0); err != nil {
		t.Fatal(err)
	}
	e.ackAdjustmentsUpTo(covered)
	e.closePeriod(product, month(4), 0)    // no closed record, long past its max event age
	e.closePeriod("PRD-GONE", month(4), 0) // a retired product: kept
	progress := e.progressHistory()
	dlqs := e.deadLetters()

	for round := range 2 { // a second round, by another process, removes nothing more
		purges, err := e.retainer(0).Run(e.ctx)
		if err != nil || round == 0 && len(purges) == 0 {
			t.Fatalf("round %d: %d purges, %v", round, len(purges), err)
		}
		e.checkLeft(progress, dlqs)
	}
}

// checkLeft checks what TestRetentionPurgesOnlyWhatIsNoLongerNeeded's retention left.
func (e *env) checkLeft(progress *progressCase, dlqs *letterCase) {
	t := e.t
	t.Helper()
	rec, marks := e.counts(bus.StreamAgg, subjects.Records.All()), e.counts(bus.StreamAgg, subjects.Marks.All())
	want := func(got map[string]uint64, start time.Time, prod string, n uint64) {
		t.Helper()
		var sum uint64
		for s, c := range got {
			if strings.Contains(s, events.Period{Start: start}.Key()) && strings.Contains(s, "."+prod+".") {
				sum += c
			}
		}
		if sum != n {
			t.Errorf("%s %s: %d messages left, want %d (%v)", prod, start.Format("2006-01"), sum, n, got)
		}
	}
	want(rec, month(1), product, 0)
	want(marks, month(1), product, 0)
	want(rec, month(2), product, parts)
	want(marks, month(2), product, parts)
	want(rec, month(3), product, 0)
	want(marks, month(4), product, 0)
	want(marks, month(4), "PRD-GONE", parts)
	if adjLeft := e.counts(bus.StreamAgg, subjects.Adjustments.All()); adjLeft[subjects.Adjustments.Subject(product, contract, month(3), 0)] != 1 {
		t.Errorf("adjustments left %v, want the one after the supplement", adjLeft)
	}
	idx, _, _ := e.ledger.Index(e.ctx, ledger.SupplementIndexKey(product, contract, month(4)))
	if !idx.NoClosedRecords {
		t.Error("the empty period's marks are gone but its index does not say it had no closed records")
	}
	progress.check(e)
	dlqs.check(e)
}

// progressCase is partition 0's progress history with a snapshot after its second commit, and partition
// 1's without a snapshot.
type progressCase struct{ seqs [parts][]uint64 }

func (e *env) progressHistory() *progressCase {
	e.t.Helper()
	c := &progressCase{}
	for p := range parts {
		for i := range 4 {
			rec := map[string]any{"partition": p, "after": i * 10, "from": i*10 + 1, "to": (i + 1) * 10, "part": 1, "parts": 1}
			c.seqs[p] = append(c.seqs[p], e.publish(subjects.Progress(p), events.KindProgress, rec))
		}
	}
	if err := e.conn.PutObject(e.ctx, bus.BucketSnapshots, "p0-20-abc", []byte("state")); err != nil {
		e.t.Fatal(err)
	}
	if err := e.conn.PutObject(e.ctx, bus.BucketSnapshots, "p0-40-abc", []byte("state")); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// check wants partition 0's records from the first one after its oldest snapshot (to 30) on, and all of
// partition 1's.
func (c *progressCase) check(e *env) {
	e.t.Helper()
	got := e.counts(bus.StreamAgg, subjects.AllProgress)
	if got[subjects.Progress(0)] != 2 || got[subjects.Progress(1)] != 4 {
		e.t.Errorf("progress left %v: want 2 of partition 0 (after its oldest snapshot), all 4 of partition 1 (no snapshot)", got)
	}
	if _, err := e.conn.GetMsg(e.ctx, bus.StreamAgg, c.seqs[0][2]); err != nil {
		e.t.Errorf("the first progress record after the oldest snapshot is gone: %v", err)
	}
}

// letterCase is dead letters in both places, some replayed, some open.
type letterCase struct {
	resolved, open []uint64 // USAGE_DLQ sequences
	aggMixed       uint64   // a USAGE_AGG message with a replayed and an open letter
	aggResolved    uint64   // one with a replayed letter only
}

func (e *env) deadLetters() *letterCase {
	e.t.Helper()
	c := &letterCase{}
	letter := func(stage string) events.DeadLetter {
		ev := events.Event{SpecVersion: "1.0", ID: "x", Source: "/s", Type: "t", Subject: "AS-1", Time: month(1),
			Data: events.Usage{Product: product, Item: "UNITS", Quantity: events.MustDecimal("1")}}
		raw, _ := json.Marshal(ev)
		dl := events.DeadLetter{Stage: stage, Reason: events.ReasonUnknownProduct, At: time.Now()}
		dl.SetPayload(raw)
		return dl
	}
	done := func(id string) {
		if _, err := e.ledger.PutReplay(e.ctx, ledger.Replay{DeadLetter: id, State: ledger.ReplayDone}, 0); err != nil {
			e.t.Fatal(err)
		}
	}
	for i := range 2 {
		seq := e.publish(subjects.DeadLetters(events.StageIngest, events.ReasonUnknownProduct), "dead_letter", letter(events.StageIngest))
		if i == 0 {
			c.resolved = append(c.resolved, seq)
			done(fmt.Sprintf("dlq-%d", seq))
		} else {
			c.open = append(c.open, seq)
		}
	}
	a, b := letter(events.StageAggregator), letter(events.StageAggregator)
	la, _ := json.Marshal(a)
	lb, _ := json.Marshal(b)
	h := bus.Header{}
	h.Set(events.HeaderKind, "dead_letter")
	ack, err := e.conn.Publish(e.ctx, bus.Msg{Subject: subjects.AggDeadLetters(0), Header: h, Data: append(append(append(la, '\n'), lb...), '\n')})
	if err != nil {
		e.t.Fatal(err)
	}
	c.aggMixed = ack.Seq
	done(fmt.Sprintf("agg-%d-0", c.aggMixed))
	c.aggResolved = e.publish(subjects.AggDeadLetters(1), "dead_letter", a)
	done(fmt.Sprintf("agg-%d-0", c.aggResolved))
	return c
}

func (c *letterCase) check(e *env) {
	e.t.Helper()
	present := func(stream string, seq uint64) bool {
		_, err := e.conn.GetMsg(e.ctx, stream, seq)
		return err == nil
	}
	if present(bus.StreamDLQ, c.resolved[0]) || !present(bus.StreamDLQ, c.open[0]) {
		e.t.Error("USAGE_DLQ: want the replayed letter gone and the open one kept")
	}
	if !present(bus.StreamAgg, c.aggMixed) || present(bus.StreamAgg, c.aggResolved) {
		e.t.Error("usage.agg.dlq: want the message with an open letter kept and the resolved one gone")
	}
}

// TestRetentionKeepsWhatIsNewerThanItsMinimumAge: nothing stored within --retention-min-age is purged, even
// when nothing needs it.
func TestRetentionKeepsWhatIsNewerThanItsMinimumAge(t *testing.T) {
	e := newEnv(t)
	e.closePeriod(product, month(1), 1)
	e.entry(month(1), 0, ledger.StateAccepted)
	e.closePeriod(product, month(4), 0)
	purges, err := e.retainer(time.Hour).Run(e.ctx)
	if err != nil || len(purges) != 0 {
		t.Fatalf("purges %+v, %v: want none within the minimum age", purges, err)
	}
	if n := len(e.counts(bus.StreamAgg, subjects.Records.All())); n != parts {
		t.Errorf("%d record subjects left", n)
	}
}

// TestEmptyPeriodMarksStoredLaterArePurgedToo: an empty period is noted only once every partition marked
// it; marks stored after a round's floor go at a later round, whatever is left of the others.
func TestEmptyPeriodMarksStoredLaterArePurgedToo(t *testing.T) {
	e := newEnv(t)
	mark := func(p int) {
		m := events.PartitionMark{Product: product, Contract: contract, PeriodStart: month(4), PeriodEnd: month(5), Partition: p, Partitions: parts}
		e.publish(subjects.Marks.Subject(product, contract, month(4), p), events.KindMark, m)
	}
	left := func() uint64 {
		var n uint64
		for _, c := range e.counts(bus.StreamAgg, subjects.Marks.All()) {
			n += c
		}
		return n
	}
	mark(0)
	r := e.retainer(0)
	if _, err := r.Run(e.ctx); err != nil || left() != 1 {
		t.Fatalf("one of two partitions marked: %d marks left (%v), want it kept", left(), err)
	}
	mark(1)
	if _, err := r.Run(e.ctx); err != nil || left() != 0 {
		t.Fatalf("both marked: %d left (%v)", left(), err)
	}
	mark(1) // stored after that round
	if _, err := r.Run(e.ctx); err != nil || left() != 0 {
		t.Fatalf("a mark stored later: %d left (%v)", left(), err)
	}
}
