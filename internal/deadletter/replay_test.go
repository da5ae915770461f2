package deadletter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestAKeptEventIsReplayedOnceEver: a rejection kept for an unknown product is refused while the catalog
// lacks the product, counted once it has it (one copy, under the letter's msg-id), and a second replay does
// nothing new; every attempt is in the log, the replay in the period's action log.
func TestAKeptEventIsReplayedOnceEver(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	ev := event("e-1", "AS-0001-0001-0001", "PRD-FIX", now.Add(-time.Minute))
	id := e.keptRejection(ev, events.ReasonUnknownProduct)

	broken := e.service(brokenCatalog, now)
	if d := decisions(e.replay(broken, Filter{}, true)); d[id] != DecisionRefused {
		t.Fatalf("before the fix: %v, want refused", d)
	}
	fixed := e.service(fixedCatalog, now)
	if dry := e.replay(fixed, Filter{Open: true}, false); len(dry.Items) != 1 || dry.Items[0].Decision != DecisionCount || dry.Items[0].Executed {
		t.Fatalf("dry run after the fix: %+v", dry.Items)
	}
	if n := len(e.copies(bus.StreamEvents, id)); n != 0 {
		t.Fatalf("a dry run published %d copies", n)
	}
	rep := e.replay(fixed, Filter{}, true)
	if it := rep.Items[0]; it.Decision != DecisionCount || !it.Executed || it.Seq == 0 {
		t.Fatalf("replay: %+v", it)
	}
	again := e.replay(fixed, Filter{}, true)
	if it := again.Items[0]; it.Decision != DecisionReplayed || it.Seq != rep.Items[0].Seq {
		t.Fatalf("second replay: %+v", it)
	}
	copies := e.copies(bus.StreamEvents, id)
	if len(copies) != 1 || copies[0].Seq != rep.Items[0].Seq || copies[0].Header.Get(bus.HeaderMsgID) != "replay-"+id {
		t.Fatalf("copies %+v", copies)
	}
	if evs, err := events.DecodePacket(copies[0].Data); err != nil || len(evs) != 1 || evs[0].Key() != ev.Key() {
		t.Fatalf("copy holds %+v (%v)", evs, err)
	}
	logs, err := Replays(e.ctx, e.ledger, Query{Source: ev.Source, ID: ev.ID})
	if err != nil || len(logs) != 1 || logs[0].State != ledger.ReplayDone || len(logs[0].Earlier) != 1 || logs[0].Actor.Name != "alice" {
		t.Fatalf("replays of the event: %+v, %v", logs, err)
	}
	acts, err := e.ledger.Actions(e.ctx, "PRD-FIX", "CRD-1", events.Period{Start: monthStart(ev.Time)}.Start)
	if err != nil || len(acts) != 1 || acts[0].Action != "replay" || acts[0].Target != id {
		t.Fatalf("action log %+v, %v", acts, err)
	}
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// TestDuplicatesAreFoundWhereverTheyAreCounted: a key counted in its partition is a duplicate; two letters of
// one key replay once; the aggregator's refusal of a packet does not count that packet, and its own source
// packet is not a copy of it.
func TestDuplicatesAreFoundWhereverTheyAreCounted(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	at := now.Add(-time.Minute)
	sub := "AS-0002-0002-0002"
	p := events.Partition(sub, testPartitions)
	counted := event("counted", sub, "PRD-FIX", at)
	e.packet(p, counted)
	dupOfCounted := e.keptRejection(counted, events.ReasonUnknownProduct)
	twice := event("twice", sub, "PRD-FIX", at)
	first, second := e.keptRejection(twice, events.ReasonUnknownProduct), e.keptRejection(twice, events.ReasonUnknownItem)
	refused := event("refused", sub, "PRD-FIX", at)
	refusedAt := e.packet(p, refused)
	aggLetter := e.aggRefusal(refused, refusedAt, events.ReasonUnknownProduct)
	refusedToo := event("refused-too", sub, "PRD-FIX", at)
	aggToo := e.aggRefusal(refusedToo, e.packet(p, refusedToo), events.ReasonUnknownProduct)
	keptToo := e.keptRejection(refusedToo, events.ReasonUnknownProduct)

	rep := e.replay(e.service(fixedCatalog, now), Filter{}, true)
	got := decisions(rep)
	// refusedToo's two letters: the one replayed first is counted (its key's occurrence was refused), the
	// other is its duplicate (the key's index).
	want := map[string]Decision{dupOfCounted: DecisionDuplicate, first: DecisionCount, second: DecisionDuplicate,
		aggLetter: DecisionCount, aggToo: DecisionCount, keptToo: DecisionDuplicate}
	for id, d := range want {
		if got[id] != d {
			t.Errorf("%s: %s, want %s (all: %v)", id, got[id], d, got)
		}
	}
	for _, it := range rep.Items {
		if it.ID == dupOfCounted && !strings.Contains(it.Detail, "counted already") {
			t.Errorf("duplicate without where: %q", it.Detail)
		}
	}
	if n := len(e.copies(bus.StreamEvents, second)); n != 0 {
		t.Errorf("the second letter of one key published %d copies", n)
	}
}

// TestTheRefusalOfACopyIsReplayedAgain: when the aggregator refuses a replay's copy, its letter is the one
// to replay; any other letter of the key stays a duplicate.
func TestTheRefusalOfACopyIsReplayedAgain(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	ev := event("again", "AS-0003-0003-0003", "PRD-FIX", now.Add(-time.Minute))
	kept := e.keptRejection(ev, events.ReasonUnknownProduct)
	s := e.service(fixedCatalog, now)
	copySeq := e.replay(s, Filter{IDs: []string{kept}}, true).Items[0].Seq
	refusal := e.aggRefusal(ev, copySeq, events.ReasonUnknownProduct)
	other := e.keptRejection(ev, events.ReasonUnknownItem)
	got := decisions(e.replay(s, Filter{}, true))
	if got[refusal] != DecisionCount || got[other] != DecisionDuplicate || got[kept] != DecisionReplayed {
		t.Fatalf("decisions %v: want the refusal counted, the other letter a duplicate", got)
	}
	x, _, err := e.ledger.ReplayIndex(e.ctx, ledger.ReplayedEventKey(ev.Source, ev.ID))
	if err != nil || x.DeadLetter != refusal || x.Seq == copySeq {
		t.Fatalf("index %+v, %v: want it moved to %s", x, err, refusal)
	}
}

// crashAt makes the replay stop dead at the step for letter id, as a SIGKILL would (nothing after it runs).
type crash struct{ step string }

func crashAt(t *testing.T, s *Service, f Filter, stepName string) {
	t.Helper()
	StepHook = func(name, _ string) {
		if name == stepName {
			panic(crash{name})
		}
	}
	defer func() {
		StepHook = nil
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
		}
	}()
	_, err := s.Replay(t.Context(), f, ReplayOptions{Execute: true, Actor: ledger.Actor{Name: "crashing", Via: "test"}})
	t.Fatalf("the replay did not reach step %s: %v", stepName, err)
}

// TestAnInterruptedReplayResumesWithoutASecondCopy: stopped dead after each of its steps, a replay run again
// finishes it with the one copy (an event) and the log says so; the JetStream duplicate window is not what
// saves it: the copy is found in the partition first.
func TestAnInterruptedReplayResumesWithoutASecondCopy(t *testing.T) {
	for _, stepName := range []string{"logged", "claimed", "published", "indexed"} {
		t.Run(stepName, func(t *testing.T) {
			e := newEnv(t)
			now := time.Now()
			ev := event("crash-"+stepName, "AS-0004-0004-0004", "PRD-FIX", now.Add(-time.Minute))
			id := e.keptRejection(ev, events.ReasonUnknownProduct)
			s := e.service(fixedCatalog, now)
			crashAt(t, s, Filter{}, stepName)
			l, _, err := e.ledger.Replay(e.ctx, id)
			if err != nil || l.State != ledger.ReplayStarted {
				t.Fatalf("after the crash: %+v, %v", l, err)
			}
			list, _ := s.List(e.ctx, Filter{Open: true})
			if len(list.Letters) != 1 || list.Letters[0].State != StateInterrupted {
				t.Fatalf("listed as %+v", list.Letters)
			}
			it := e.replay(s, Filter{}, true).Items[0]
			copies := e.copies(bus.StreamEvents, id)
			if it.Decision != DecisionCount || len(copies) != 1 || copies[0].Seq != it.Seq {
				t.Fatalf("resumed: %+v, %d copies", it, len(copies))
			}
			l, _, _ = e.ledger.Replay(e.ctx, id)
			x, _, _ := e.ledger.ReplayIndex(e.ctx, ledger.ReplayedEventKey(ev.Source, ev.ID))
			if l.State != ledger.ReplayDone || l.Seq != it.Seq || x.Seq != it.Seq || !strings.Contains(l.Outcome, "finished by alice") {
				t.Fatalf("log %+v, index %+v", l, x)
			}
		})
	}
}

// submitterLetter publishes the submitter's dead letter of r for reason and returns its id.
func (e *env) submitterLetter(r events.PeriodRecord, reason events.Reason) string {
	e.t.Helper()
	raw, _ := json.Marshal(r)
	dl := events.DeadLetter{Stage: events.StageSubmitter, Reason: reason, Message: "record " + r.RecordID() + ": asset not found",
		Subject: "usage.agg.rec.x", Seq: 3, At: time.Now().UTC()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	h := bus.Header{}
	h.Set(headerFileKey, "file.PRD-FIX.CRD-1.x.r0.p1")
	return dlqID(e.publish(bus.Msg{Subject: "usage.dlq.submitter." + string(reason), Header: h, Data: data}))
}

// TestRecordsAreResubmittedAsAdjustments: a record Connect refused becomes an adjustment of its period,
// published once, a delta of its total with a record id of its own; an unwritable one is refused while the
// catalog still makes it so.
func TestRecordsAreResubmittedAsAdjustments(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	start := monthStart(now)
	rec := events.PeriodRecord{Kind: events.RecordClosed, Product: "PRD-FIX", Contract: "CRD-1", Subscription: "AS-0005-0005-0005",
		Item: "UNITS", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Aggregation: events.AggregationSum, Mode: events.ModeTotal,
		Quantity: events.MustDecimal("12.5"), Events: 3, Partition: 2}
	invalid := e.submitterLetter(rec, "connect_invalid")
	fine := rec
	fine.Subscription, fine.Quantity = "AS-0006-0006-0006", events.MustDecimal("1.239")
	unwritable := e.submitterLetter(fine, "unwritable")
	s := e.service(fixedCatalog, now)
	got := decisions(e.replay(s, Filter{Stage: events.StageSubmitter}, true))
	if got[invalid] != DecisionResubmit || got[unwritable] != DecisionRefused {
		t.Fatalf("decisions %v", got)
	}
	copies := e.copies(bus.StreamAgg, invalid)
	if len(copies) != 1 {
		t.Fatalf("%d copies", len(copies))
	}
	var r events.PeriodRecord
	if err := json.Unmarshal(copies[0].Data, &r); err != nil {
		t.Fatal(err)
	}
	ps, err := parsePeriodSubject(copies[0].Subject)
	if err != nil || ps != "usage.agg.adj" || copies[0].Header.Get(events.HeaderKind) != events.KindAdjustments {
		t.Errorf("copy on %s (%v), kind %s", copies[0].Subject, err, copies[0].Header.Get(events.HeaderKind))
	}
	if r.Kind != events.RecordAdjustment || r.Mode != events.ModeDelta || r.Quantity.String() != "12.5" || r.Resubmits != invalid ||
		r.OriginID() != rec.RecordID() || r.RecordID() == rec.RecordID() {
		t.Errorf("resubmission %+v", r)
	}
	if d := decisions(e.replay(s, Filter{Stage: events.StageSubmitter}, true)); d[invalid] != DecisionReplayed {
		t.Errorf("second replay: %v", d)
	}
}

func parsePeriodSubject(s string) (string, error) {
	i := strings.Index(s, ".PRD-FIX.")
	if i < 0 {
		return "", errors.New("no product in " + s)
	}
	return s[:i], nil
}

// TestListFiltersAndCounts: filters select by stage, reason, product, subscription, period, time and state;
// counts are by stage × reason; show reads one letter.
func TestListFiltersAndCounts(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	a := e.keptRejection(event("l-1", "AS-0007-0007-0007", "PRD-FIX", now), events.ReasonUnknownProduct)
	b := e.keptRejection(event("l-2", "AS-0008-0008-0008", "PRD-NONE", now), events.ReasonUnknownProduct)
	ev := event("l-3", "AS-0007-0007-0007", "PRD-OLD", now)
	c := e.aggRefusal(ev, e.packet(events.Partition(ev.Subject, testPartitions), ev), events.ReasonTooLate)
	h := bus.Header{}
	h.Set(events.HeaderKind, "dead_letter")
	bad, _ := json.Marshal(events.DeadLetter{Stage: events.StageAggregator, Reason: events.ReasonBadJSON, Message: "x", Subject: "usage.events.1", Seq: 9,
		PayloadBytes: []byte("not a packet")})
	d := aggID(e.publish(bus.Msg{Subject: "usage.agg.dlq.1", Header: h, Data: append(bad, '\n')}), 0)
	s := e.service(fixedCatalog, now)
	ids := func(f Filter) string {
		l, err := s.List(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range l.Letters {
			out = append(out, x.ID)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, strings.Join([]string{d, a, b, c}, " ")}, // oldest first: the message letter has no time
		{Filter{Stage: "ingest"}, a + " " + b},
		{Filter{Stage: "aggregator", Reason: "too_late"}, c},
		{Filter{Product: "PRD-FIX"}, a},
		{Filter{Subscription: "AS-0007-0007-0007"}, a + " " + c},
		{Filter{Period: now}, a + " " + c}, // PRD-NONE has no period; the message none either
		{Filter{Period: now.AddDate(0, 2, 0)}, ""},
		{Filter{Until: now.Add(-time.Hour)}, d}, // the message letter's time is zero
		{Filter{IDs: []string{b, d}}, d + " " + b},
		{Filter{Source: "/test", EventID: "l-3"}, c},
		{Filter{EventID: "l-2"}, b},
		{Filter{Record: "0123"}, ""},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.f, got, tc.want)
		}
	}
	e.replay(s, Filter{IDs: []string{a}}, true)
	l, err := s.List(e.ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"aggregator bad_json": {1, 1}, "aggregator too_late": {1, 1}, "ingest unknown_product": {2, 1}}
	if len(l.Counts) != len(want) || l.Open() != 3 {
		t.Errorf("counts %+v, open %d", l.Counts, l.Open())
	}
	for _, cnt := range l.Counts {
		if w := want[cnt.Stage+" "+string(cnt.Reason)]; w != [2]int{cnt.Total, cnt.Open} {
			t.Errorf("count %+v, want total/open %v", cnt, w)
		}
	}
	if got := ids(Filter{Open: true}); got != strings.Join([]string{d, b, c}, " ") {
		t.Errorf("open: %q", got)
	}
	shown, err := s.Show(e.ctx, c)
	if err != nil || shown.Kind != KindEvent || shown.Event.ID != "l-3" || shown.Product != "PRD-OLD" || shown.PeriodStart.IsZero() {
		t.Fatalf("show %s: %+v, %v", c, shown, err)
	}
	if shown, err := s.Show(e.ctx, a); err != nil || shown.State != StateReplayed || shown.Replay == nil {
		t.Fatalf("show %s: %+v, %v", a, shown, err)
	}
	if _, err := s.Show(e.ctx, "agg-999-0"); !errors.Is(err, bus.ErrNotFound) {
		t.Errorf("show of nothing: %v", err)
	}
	if it := decisions(e.replay(s, Filter{IDs: []string{d}}, false)); it[d] != DecisionRefused {
		t.Errorf("a message letter: %v", it)
	}
}

func TestParseID(t *testing.T) {
	for _, good := range []string{"dlq-1", "agg-12-0", "agg-3-17"} {
		if _, _, _, err := ParseID(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"", "dlq-0", "dlq-01", "agg-3", "agg-3-01", "x-1", "dlq-1-2", "agg--1-0"} {
		if _, _, _, err := ParseID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestALateEventBecomesAnAdjustment: an event whose period has closed is replayed all the same: the
// aggregator makes it an adjustment, which the submitter files in a supplementary file.
func TestALateEventBecomesAnAdjustment(t *testing.T) {
	e := newEnv(t)
	ev := event("late", "AS-0009-0009-0009", "PRD-FIX", time.Now())
	id := e.keptRejection(ev, events.ReasonUnknownProduct)
	later := e.service(fixedCatalog, time.Now().AddDate(0, 1, 5))
	it := e.replay(later, Filter{}, true).Items[0]
	if it.ID != id || it.Decision != DecisionAdjust || !it.Executed || !strings.Contains(it.Detail, "supplementary file") {
		t.Fatalf("late event: %+v", it)
	}
}
