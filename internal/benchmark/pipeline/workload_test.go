package pipeline

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// testCatalog parses the catalog of c.
func testCatalog(t *testing.T, c Config) *events.Catalog {
	t.Helper()
	cat, err := events.ParseCatalog([]byte(catalogYAML(c)))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// generate draws batches of 100 sends every 10 ms from t0 until n sends, remembering each batch's time.
func generate(t *testing.T, c Config, t0 time.Time, n int) ([]send, []time.Time) {
	t.Helper()
	p, _ := testCatalog(t, c).Product(productID(0))
	g := newGenerator(c, p.Period, t0.Add(-time.Hour))
	var sends []send
	var ats []time.Time
	for at := t0; len(sends) < n; at = at.Add(10 * time.Millisecond) {
		b := g.batch(at, 100, nil)
		sends = append(sends, b...)
		for range b {
			ats = append(ats, at)
		}
	}
	return sends, ats
}

// TestGeneratorShares checks the workload's shape over 300 000 sends: the Zipf head of the subscriptions,
// the items' weights, 5 % duplicates sent again 0.2–6 s later with the same content, 1 % late events timed
// in a period closed before their send, and on-time events timed in an open period, just before their send.
func TestGeneratorShares(t *testing.T) {
	c := DefaultConfig
	t0 := time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)
	sends, ats := generate(t, c, t0, 300_000)
	p, _ := testCatalog(t, c).Product(productID(0))
	originals := map[uint64]int{} // seq → index in sends
	perSub := make([]int, c.Subscriptions)
	perItem := make([]int, len(items))
	var late, early, earlyResent int // early: originals whose resend, if any, is due before the end
	last := ats[len(ats)-1]
	for i := range sends {
		s := &sends[i]
		if s.resend {
			j := checkResend(t, sends, ats, originals, i)
			if !ats[j].After(last.Add(-maxResend)) {
				earlyResent++
			}
			continue
		}
		originals[s.seq] = i
		perSub[s.sub]++
		perItem[s.item]++
		if s.late {
			late++
		}
		if !ats[i].After(last.Add(-maxResend)) {
			early++
		}
		checkTime(t, p, s, ats[i])
	}
	n := float64(len(originals))
	within(t, "duplicate share", float64(earlyResent)/float64(early), c.DuplicateShare, 0.005)
	within(t, "late share", float64(late)/n, c.LateShare, 0.002)
	for i, it := range items {
		within(t, "share of "+it.mpn, float64(perItem[i])/n, it.weight, 0.01)
	}
	slices.Sort(perSub)
	slices.Reverse(perSub)
	head := 0
	for _, k := range perSub[:c.Subscriptions/100] {
		head += k
	}
	within(t, "share of the top 1 % of subscriptions", float64(head)/n, zipfHead(c, c.Subscriptions/100), 0.01)
}

func within(t *testing.T, what string, have, want, tolerance float64) {
	t.Helper()
	if math.Abs(have-want) > tolerance {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, have, want, tolerance)
	}
}

// zipfHead is the share of the k most popular of c's subscriptions under P(rank i) ∝ (v+i)^-s.
func zipfHead(c Config, k int) float64 {
	var head, all float64
	for i := range c.Subscriptions {
		w := math.Pow(c.ZipfV+float64(i), -c.ZipfS)
		all += w
		if i < k {
			head += w
		}
	}
	return head / all
}

// checkResend: send i repeats an original sent 0.2–6 s (and one batch) before, with the same content; it
// returns the original's index.
func checkResend(t *testing.T, sends []send, ats []time.Time, originals map[uint64]int, i int) int {
	t.Helper()
	s := sends[i]
	j, ok := originals[s.seq]
	if !ok {
		t.Fatalf("resend of event %d before its original", s.seq)
	}
	o := sends[j]
	o.resend = true
	if o != s {
		t.Fatalf("resend %+v differs from its original %+v", s, sends[j])
	}
	if d := ats[i].Sub(ats[j]); d < minResend || d > maxResend+10*time.Millisecond {
		t.Fatalf("event %d sent again %v later, want %v..%v", s.seq, d, minResend, maxResend)
	}
	return j
}

// checkTime: a late event's period closed a second before its send at least; an on-time event is timed
// within the jitter before its send, in a period still open.
func checkTime(t *testing.T, p *events.Product, s *send, at time.Time) {
	t.Helper()
	et := time.Unix(0, s.time)
	closeAt := p.CloseAt(p.PeriodOf(et))
	if s.late {
		if closeAt.After(at.Add(-lateGuard)) {
			t.Fatalf("late event %d at %v: its period closes at %v, not before its send at %v", s.seq, et, closeAt, at)
		}
		return
	}
	if et.After(at) || at.Sub(et) > maxJitter || !closeAt.After(at) {
		t.Fatalf("on-time event %d at %v sent at %v, its period closing at %v", s.seq, et, at, closeAt)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a, _ := generate(t, DefaultConfig, t0, 20_000)
	b, _ := generate(t, DefaultConfig, t0, 20_000)
	if !slices.Equal(a, b) {
		t.Error("the same seed drew different sends")
	}
	other := DefaultConfig
	other.Seed = 2
	if c, _ := generate(t, other, t0, 20_000); slices.Equal(a, c) {
		t.Error("another seed drew the same sends")
	}
}

// TestGeneratorNeverTooOld: no late event is timed in a period that closed before notBefore (the events
// stream's creation: ingest would reject it as too_old); until such a period exists, late events are on time.
func TestGeneratorNeverTooOld(t *testing.T) {
	c := DefaultConfig
	c.LateShare = 1
	p, _ := testCatalog(t, c).Product(productID(0))
	created := time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)
	g := newGenerator(c, p.Period, created)
	for at := created; at.Before(created.Add(3 * time.Minute)); at = at.Add(time.Second) {
		for _, s := range g.batch(at, 10, nil) {
			closeAt := p.CloseAt(p.PeriodOf(time.Unix(0, s.time)))
			if s.late && !closeAt.After(created) {
				t.Fatalf("at %v a late event is timed in a period closed at %v, before the stream's creation", at, closeAt)
			}
			if !s.late && at.After(created.Add(2*time.Minute+12*time.Second)) {
				t.Fatalf("at %v, with a closed period after the creation, an event is not late", at)
			}
		}
	}
}

// TestEncoderWritesValidEvents decodes an encoded body as CloudEvents: every event has the send's identity
// and content, its subscription's source and region, and passes the catalog's validation. A second body from
// the same encoder does not change the first's events (the encoder reuses its buffers).
func TestEncoderWritesValidEvents(t *testing.T) {
	c := DefaultConfig
	cat := testCatalog(t, c)
	t0 := time.Now().Truncate(time.Minute).Add(30 * time.Second)
	sends, _ := generate(t, c, t0, 1000)
	enc := newEncoder(c)
	body := enc.body(nil, sends)
	again := string(body)
	enc.body(nil, sends[:10])
	if string(body) != again {
		t.Fatal("a second body changed the first")
	}
	var evs []events.Event
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatalf("%v\n%.500s", err, body)
	}
	if len(evs) != len(sends) {
		t.Fatalf("%d events decoded, %d sent", len(evs), len(sends))
	}
	for i, e := range evs {
		s := sends[i]
		cents, ok := e.Data.Quantity.FixedPoint(2)
		if e.ID != "pb-1-"+itoa(s.seq) || e.Subject != subscriptionID(int(s.sub)) ||
			e.Data.Product != productID(int(s.sub)%c.Products) || e.Data.Item != items[s.item].mpn ||
			!ok || cents != s.cents || !e.Time.Equal(time.Unix(0, s.time)) {
			t.Fatalf("event %d decodes as %+v, sent %+v", i, e, s)
		}
		if e.Source == "" || e.Data.Attributes["region"] == "" {
			t.Fatalf("event %d has no source or region: %+v", i, e)
		}
		if rej := cat.Validate(&e, t0.Add(time.Second)); rej != nil {
			t.Fatalf("event %d rejected: %v", i, rej)
		}
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
