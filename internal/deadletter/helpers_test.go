package deadletter

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

const testPartitions = 4

// fixedCatalog has the product PRD-FIX (monthly periods, a week of max event age); brokenCatalog lacks it,
// as a catalog before its fix.
const fixedCatalog = `products:
  - id: PRD-OLD
    name: Old
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: monthly}
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
  - id: PRD-FIX
    name: Fixed
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: monthly}
    allowed_lateness: 1h
    max_event_age: 2400h
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
`

const brokenCatalog = `products:
  - id: PRD-OLD
    name: Old
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: monthly}
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
`

func catalog(t *testing.T, yaml string) *events.Catalog {
	t.Helper()
	c, err := events.ParseCatalog([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// env is an embedded JetStream with the streams and the ledger, and a service over them.
type env struct {
	t      *testing.T
	conn   *bus.Conn
	ledger *ledger.Store
	ctx    context.Context
	url    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	srv := natsembedtest.Start(t)
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: testPartitions}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, conn: conn, ledger: l, ctx: ctx, url: srv.URL()}
}

// service is a service judging with the catalog yaml, its clock at now.
func (e *env) service(yaml string, now time.Time) *Service {
	e.t.Helper()
	s, err := New(e.conn, e.ledger, catalog(e.t, yaml))
	if err != nil {
		e.t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	return s
}

// event is a usage event of product at t.
func event(id, sub, product string, at time.Time) events.Event {
	return events.Event{SpecVersion: events.SpecVersion, ID: id, Source: "/test", Type: events.EventType, Subject: sub,
		Time: at.UTC(), Data: events.Usage{Product: product, Item: "UNITS", Quantity: events.MustDecimal("1.5")}}
}

var msgSeq atomic.Int64

func (e *env) publish(m bus.Msg) uint64 {
	e.t.Helper()
	if m.Header == nil {
		m.Header = bus.Header{}
	}
	if m.Header.Get(bus.HeaderMsgID) == "" {
		m.Header.Set(bus.HeaderMsgID, "test-"+strconv.FormatInt(msgSeq.Add(1), 10))
	}
	ack, err := e.conn.Publish(e.ctx, m)
	if err != nil {
		e.t.Fatal(err)
	}
	return ack.Seq
}

// keptRejection publishes ev as ingest keeps it, rejected for reason; it returns the letter's id.
func (e *env) keptRejection(ev events.Event, reason events.Reason) string {
	e.t.Helper()
	raw, _ := json.Marshal(ev)
	dl := events.DeadLetter{Stage: events.StageIngest, Reason: reason, Message: string(reason),
		Subject: subjects.Events(events.Partition(ev.Subject, testPartitions)), At: time.Now().UTC()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	return dlqID(e.publish(bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, reason), Data: data}))
}

// packet publishes evs as one producer packet on partition p and returns its sequence.
func (e *env) packet(p int, evs ...events.Event) uint64 {
	e.t.Helper()
	h := bus.Header{}
	h.Set(events.HeaderKind, events.KindEvents)
	return e.publish(bus.Msg{Subject: subjects.Events(p), Header: h, Data: events.EncodePacket(evs)})
}

// aggRefusal publishes the aggregator's dead letter of ev, which came in the packet at fromSeq, with
// reason; it returns the letter's id.
func (e *env) aggRefusal(ev events.Event, fromSeq uint64, reason events.Reason) string {
	e.t.Helper()
	p := events.Partition(ev.Subject, testPartitions)
	raw, _ := json.Marshal(ev)
	dl := events.DeadLetter{Stage: events.StageAggregator, Reason: reason, Message: string(reason), Subject: subjects.Events(p),
		Seq: fromSeq, At: time.Now().UTC()}
	dl.SetPayload(raw)
	line, _ := json.Marshal(dl)
	h := bus.Header{}
	h.Set(events.HeaderKind, "dead_letter")
	return aggID(e.publish(bus.Msg{Subject: subjects.AggDeadLetters(p), Header: h, Data: append(line, '\n')}), 0)
}

// copies reads the replayed copies of letter id in stream.
func (e *env) copies(stream, id string) []bus.Msg {
	e.t.Helper()
	var out []bus.Msg
	err := e.conn.Read(e.ctx, stream, bus.ReadOptions{}, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderReplay) == id {
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) replay(s *Service, f Filter, execute bool) *Report {
	e.t.Helper()
	rep, err := s.Replay(e.ctx, f, ReplayOptions{Execute: execute, Actor: ledger.Actor{Name: "alice", Via: "test"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// decisions lists each item's id and decision.
func decisions(rep *Report) map[string]Decision {
	out := map[string]Decision{}
	for _, it := range rep.Items {
		out[it.ID] = it.Decision
	}
	return out
}
