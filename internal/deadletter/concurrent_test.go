package deadletter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// TestTwoReplayersAtOnceCountEachKeyOnce: two operators (two connections, as two submitters' operator APIs)
// replay the same letters at the same time: every key gets exactly one copy, every letter ends replayed or
// a duplicate, and a third replay publishes nothing.
func TestTwoReplayersAtOnceCountEachKeyOnce(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	keys := map[events.Key]bool{}
	for i := range 6 {
		ev := event(fmt.Sprintf("c-%d", i), fmt.Sprintf("AS-%04d-0000-0000", i), "PRD-FIX", now.Add(-time.Minute))
		e.keptRejection(ev, events.ReasonUnknownProduct)
		keys[ev.Key()] = true
	}
	twice := event("c-twice", "AS-0100-0000-0000", "PRD-FIX", now.Add(-time.Minute))
	e.keptRejection(twice, events.ReasonUnknownProduct)
	e.keptRejection(twice, events.ReasonUnknownItem)
	keys[twice.Key()] = true

	services := []*Service{e.service(fixedCatalog, now), e.serviceOn(e.secondConn(), fixedCatalog, now)}
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	start := make(chan struct{})
	for i, s := range services {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Replay(e.ctx, Filter{}, ReplayOptions{Execute: true, Actor: ledger.Actor{Name: fmt.Sprintf("op%d", i)}})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replayer %d: %v", i, err)
		}
	}
	wantOneCopyPerKey(t, e, keys)
	l, err := services[0].List(e.ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range l.Letters {
		if x.State != StateReplayed && x.State != StateDuplicate {
			t.Errorf("%s is %s after both replays", x.ID, x.State)
		}
	}
	for _, it := range e.replay(services[1], Filter{}, true).Items {
		if it.Decision != DecisionReplayed {
			t.Errorf("third replay of %s: %s", it.ID, it.Decision)
		}
	}
	wantOneCopyPerKey(t, e, keys)
}

// wantOneCopyPerKey wants USAGE_EVENTS to hold exactly one replayed copy of each key, and no other.
func wantOneCopyPerKey(t *testing.T, e *env, keys map[events.Key]bool) {
	t.Helper()
	got := map[events.Key]int{}
	err := e.conn.Read(e.ctx, bus.StreamEvents, bus.ReadOptions{}, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderReplay) == "" {
			return nil
		}
		evs, err := events.DecodePacket(m.Data)
		for _, ev := range evs {
			got[ev.Key()]++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if got[k] != 1 {
			t.Errorf("%v: %d copies, want 1", k, got[k])
		}
	}
	if len(got) != len(keys) {
		t.Errorf("copies of %d keys, want %d", len(got), len(keys))
	}
}

// TestListingsReadReplayLogsEitherWay: a listing of more letters than it reads logs one by one for reads
// every log at once; both ways give each letter its state, and an event's replays are found from its key
// (the replay that published its copy) and from the letters named (a refused one too).
func TestListingsReadReplayLogsEitherWay(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	var ids []string
	for i := range maxLogReads + 8 {
		ev := event(fmt.Sprintf("m-%d", i), fmt.Sprintf("AS-%04d-0001-0000", i), "PRD-FIX", now.Add(-time.Minute))
		ids = append(ids, e.keptRejection(ev, events.ReasonUnknownProduct))
	}
	refusedEv := event("m-refused", "AS-0200-0000-0000", "PRD-NONE", now.Add(-time.Minute))
	refused := e.keptRejection(refusedEv, events.ReasonUnknownProduct)
	s := e.service(fixedCatalog, now)
	e.replay(s, Filter{IDs: append(ids[:3:3], refused)}, true)
	all, err := s.List(e.ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	few, err := s.List(e.ctx, Filter{IDs: append(ids[:4:4], refused)})
	if err != nil {
		t.Fatal(err)
	}
	states := func(l *Listing) map[string]State {
		out := map[string]State{}
		for _, x := range l.Letters {
			out[x.ID] = x.State
		}
		return out
	}
	a, f := states(all), states(few)
	for i, id := range ids[:4] {
		want := StateReplayed
		if i == 3 {
			want = StateOpen
		}
		if a[id] != want || f[id] != want {
			t.Errorf("%s: %s in the whole listing, %s in the short one; want %s", id, a[id], f[id], want)
		}
	}
	if a[refused] != StateRefused || f[refused] != StateRefused || all.Read != len(ids)+1 || all.Open() != len(ids)-3+1 {
		t.Errorf("refused %s/%s, read %d, open %d", a[refused], f[refused], all.Read, all.Open())
	}
	logs, err := Replays(e.ctx, e.ledger, Query{Source: "/test", ID: "m-0"})
	if err != nil || len(logs) != 1 || logs[0].DeadLetter != ids[0] || logs[0].State != ledger.ReplayDone {
		t.Errorf("replays of m-0: %+v, %v", logs, err)
	}
	logs, err = Replays(e.ctx, e.ledger, Query{DeadLetters: []string{refused}, Source: refusedEv.Source, ID: refusedEv.ID})
	if err != nil || len(logs) != 1 || logs[0].State != ledger.ReplayRefused {
		t.Errorf("replays of the refused one: %+v, %v", logs, err)
	}
	if logs, err := Replays(e.ctx, e.ledger, Query{Source: refusedEv.Source, ID: refusedEv.ID}); err != nil || len(logs) != 0 {
		t.Errorf("a refused replay found by the key alone (it claims no index): %+v, %v", logs, err)
	}
}

// secondConn is another connection to the test's server.
func (e *env) secondConn() *bus.Conn {
	e.t.Helper()
	c, err := bus.Connect(e.ctx, bus.Config{URL: e.url, Name: e.t.Name() + "-2", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(c.Close)
	return c
}

// serviceOn is a service over conn (its own ledger handle) judging with the catalog yaml, its clock at now.
func (e *env) serviceOn(conn *bus.Conn, yaml string, now time.Time) *Service {
	e.t.Helper()
	l, err := ledger.Open(e.ctx, conn)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := New(conn, l, catalog(e.t, yaml))
	if err != nil {
		e.t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	return s
}

// TestAnEventsLettersAreFoundWhateverTheirPayloadsForm: the listing of one event's letters skips messages
// without its id, yet finds a letter whose original bytes are stored base64-encoded (not compact JSON).
func TestAnEventsLettersAreFoundWhateverTheirPayloadsForm(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	compact := e.keptRejection(event("p-1", "AS-0300-0000-0000", "PRD-FIX", now), events.ReasonUnknownProduct)
	ev := event("p-2", "AS-0300-0000-0001", "PRD-FIX", now)
	raw, _ := json.MarshalIndent(ev, "", "  ") // as a producer may send it: not compact, so kept as payload_bytes
	dl := events.DeadLetter{Stage: events.StageIngest, Reason: events.ReasonUnknownProduct, Message: "x",
		Subject: subjects.Events(events.Partition(ev.Subject, testPartitions)), At: now.UTC()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	if dl.PayloadBytes == nil || bytes.Contains(data, []byte("p-2")) {
		t.Fatalf("the letter's bytes show the id: %s", data)
	}
	indented := dlqID(e.publish(bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, events.ReasonUnknownProduct), Data: data}))
	s := e.service(fixedCatalog, now)
	for id, want := range map[string]string{"p-1": compact, "p-2": indented} {
		l, err := s.List(e.ctx, Filter{Source: "/test", EventID: id})
		if err != nil || len(l.Letters) != 1 || l.Letters[0].ID != want || l.Read != 2 {
			t.Errorf("letters of %s: %+v (read %d), %v; want %s", id, l.Letters, l.Read, err, want)
		}
	}
}
