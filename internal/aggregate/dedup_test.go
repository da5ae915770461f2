package aggregate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestDuplicatesCountedOnce(t *testing.T) {
	h := newHarness(t, testConfig(t))
	e := ev("a", "S", "SUM", mins(1), "1")
	h.apply(mins(1), e, e)
	h.apply(mins(2), e)
	h.restore()
	h.apply(mins(3), e, ev("a", "S", "SUM", mins(1), "1", withSource("other")))
	out := h.tick(mins(70))
	if r := closedOf(t, out, "S", "SUM"); r.Quantity.String() != "2" || r.Events != 2 {
		t.Errorf("quantity %s events %d, want 2 and 2 (one per source)", r.Quantity, r.Events)
	}
	// A late duplicate is ignored too.
	if out := h.apply(mins(80), e); out.Len() != 0 {
		t.Errorf("late duplicate produced %+v", out)
	}
	if got := h.s.Stats().Duplicates; got != 2 {
		t.Errorf("duplicates %d since the restore, want 2", got)
	}
}

func TestDedupHorizon(t *testing.T) {
	cfg := testConfig(t)
	cfg.DedupHorizon = time.Hour // generations of 7m30s; t0 starts one
	h := newHarness(t, cfg)
	e := ev("a", "S", "SUM", mins(1), "1")
	h.apply(mins(1), e)
	h.apply(mins(61), e)                                  // exactly one horizon later: still remembered
	h.apply(t0.Add(9*450*time.Second-time.Nanosecond), e) // last instant of the ninth generation
	h.restore()
	h.apply(t0.Add(9*450*time.Second), e) // forgotten: counted again, into the still open period
	out := h.tick(mins(70))
	if r := closedOf(t, out, "S", "SUM"); r.Quantity.String() != "2" {
		t.Errorf("quantity %s, want 2", r.Quantity)
	}
}

func TestDeadLetteredEventsAreNotRemembered(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	e := ev("a", "S", "NEW", mins(1), "1")
	out := h.apply(mins(1), e)
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownItem {
		t.Fatalf("output %+v", out)
	}
	// The catalog gains the item; the dead letter's replay is applied.
	h.restoreWith(Config{Catalog: catalogWith(t, "      - {mpn: NEW, precision: integer, aggregation: sum}\n"), Partitions: 1, MarkFrom: t0})
	if out := h.apply(mins(2), e); out.Len() != 0 {
		t.Fatalf("replay: %+v", out)
	}
	if r := closedOf(t, h.tick(mins(70)), "S", "NEW"); r.Quantity.String() != "1" {
		t.Errorf("quantity %s", r.Quantity)
	}
}

// catalogWith is the test catalog with extra item lines appended to PRD-QT's items.
func catalogWith(t *testing.T, items string) *events.Catalog {
	t.Helper()
	data := readFile(t, "testdata/catalog.yaml")
	const anchor = "      - {mpn: UNQ, precision: integer, aggregation: unique_count, unique_attribute: user}\n"
	i := indexOf(data, anchor)
	if i < 0 {
		t.Fatal("anchor not in catalog")
	}
	c, err := events.ParseCatalog([]byte(data[:i+len(anchor)] + items + data[i+len(anchor):]))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIDSetMatchesReference checks the dedup table against a map with the documented rule: an id is remembered
// while the current generation is at most genSpan after the generation of the clock when it was added.
func TestIDSetMatchesReference(t *testing.T) {
	const width = 1000
	rng := rand.New(rand.NewPCG(1, 2))
	s := newIDSet(width * genSpan)
	ref := map[uint64]int64{}
	now := int64(1_700_000_000_000)
	for i := 0; i < 200000; i++ {
		switch r := rng.IntN(100); {
		case r < 2:
			now += rng.Int64N(20 * width) // sometimes past the whole horizon
		case r < 40:
			now += rng.Int64N(width / 10)
		}
		s.advance(now)
		g := floorDiv(now, width)
		h := mix64(uint64(rng.IntN(5000))) // a small id space: many repeats
		gh, seen := ref[h]
		want := seen && g-gh <= genSpan
		if got := s.contains(h); got != want {
			t.Fatalf("step %d: contains = %v, want %v", i, got, want)
		}
		if !want {
			s.add(h)
			ref[h] = g
		}
	}
}

func TestIDSetMemoryPerID(t *testing.T) {
	// A steady rate over three horizons: after the first horizon the table holds 10 to 23 bytes per id.
	const perGen = 3000
	s := newIDSet(genSpan)
	for g := int64(0); g < 3*genSpan; g++ {
		s.advance(g)
		for i := 0; i < perGen; i++ {
			s.add(mix64(uint64(g*perGen + int64(i) + 1)))
			if g > genSpan {
				if per := float64(s.bytes()) / float64(s.used); per > 24 {
					t.Fatalf("generation %d: %.1f bytes per id", g, per)
				}
			}
		}
	}
	if s.used > (genSpan+1)*perGen {
		t.Errorf("%d ids remembered, want at most %d", s.used, (genSpan+1)*perGen)
	}
}

// TestIDSetSweepKeepsRuns fills the table close to its maximum load with ids of alternating generations, so
// that runs overflow into later buckets, then expires one generation and checks every id left is found.
func TestIDSetSweepKeepsRuns(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		s := newIDSet(genSpan)
		s.advance(0)
		n := len(s.buckets) * bucketSlots * maxLoadPct / 100 * 4 // grows twice, ends near the maximum load
		gens := map[uint64]int64{}
		for i := 0; i < n; i++ {
			if i == n/2 {
				s.advance(1)
			}
			h := mix64(uint64(i)<<8 | seed)
			s.add(h)
			gens[h] = s.gen
		}
		overflowed := 0
		for i := range s.buckets {
			for j := 0; j < s.buckets[i].len(); j++ {
				if s.home(s.buckets[i].hash[j]) != i {
					overflowed++
				}
			}
		}
		if overflowed == 0 {
			t.Fatalf("seed %d: no run overflows; the test proves nothing", seed)
		}
		nb := len(s.buckets)
		s.advance(genSpan + 1) // generation 0 expires, generation 1 stays: a sweep in place
		if len(s.buckets) != nb {
			t.Fatalf("seed %d: the table was resized (%d to %d buckets), not swept", seed, nb, len(s.buckets))
		}
		for h, g := range gens {
			if got, want := s.contains(h), g == 1; got != want {
				t.Fatalf("seed %d: contains(%x) = %v, want %v", seed, h, got, want)
			}
		}
		if s.used != n-n/2 {
			t.Fatalf("seed %d: %d ids, want %d", seed, s.used, n-n/2)
		}
	}
}

func TestBucketHasTag(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		var b idBucket
		n := rng.IntN(bucketSlots + 1)
		for j := range b.meta[:bucketSlots] {
			b.meta[j] = uint8(rng.IntN(8)) // unused slots hold stale tags too
		}
		b.meta[bucketSlots] = uint8(n)
		tag := uint8(rng.IntN(8))
		want := false
		for j := 0; j < n; j++ {
			want = want || b.meta[j] == tag
		}
		if got := b.hasTag(tag); got != want {
			t.Fatalf("meta %v, tag %d: hasTag = %v, want %v", b.meta, tag, got, want)
		}
	}
}

// TestDedupHorizonChange pins what a horizon change from H1 to H2 does to the ids remembered at the switch: each
// is re-tagged as if it arrived at the end of its generation (or at the switch, if earlier), so it is
// remembered for at least H2 after its arrival and less than 9/8·H2 + H1/8, wherever the partition switched;
// an id forgotten before the switch stays forgotten. Ids applied after it follow H2 alone.
func TestDedupHorizonChange(t *testing.T) {
	const h1 = time.Hour
	for _, h2 := range []time.Duration{4 * time.Hour, 16 * time.Minute} {
		bound := h2*9/8 + h1/8
		for _, sw := range []time.Duration{2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, 59 * time.Minute} {
			for _, d := range []time.Duration{h2 - time.Minute, bound, bound + time.Minute} {
				if d <= sw {
					continue // the duplicate would arrive before the switch
				}
				counted := dedupAcrossSwitch(t, h1, h2, sw, d)
				if want := d >= bound; counted != want {
					t.Errorf("H2 %v, switch %v after the event, duplicate %v after it: counted %v, want %v", h2, sw, d, counted, want)
				}
			}
		}
	}
	if dedupAcrossSwitch(t, h1, 4*time.Hour, 70*time.Minute, 80*time.Minute) != true {
		t.Error("an id forgotten before the switch (longer horizon) was remembered")
	}
}

// dedupAcrossSwitch applies a PRD-CR event at t0, switches the horizon from h1 to h2 at t0+sw, resends the
// event at t0+d and reports whether the resend was counted (both fall in one open Madrid day).
func dedupAcrossSwitch(t *testing.T, h1, h2, sw, d time.Duration) bool {
	cfg := testConfig(t)
	cfg.DedupHorizon = h1
	h := newHarness(t, cfg)
	e := ev("a", "S", "", t0, "1", withCost("", "1"))
	h.apply(t0, e)
	h.tick(t0.Add(sw))
	next := cfg
	next.DedupHorizon = h2
	h.restoreWith(next)
	h.apply(t0.Add(d), e)
	r := closedOf(t, h.tick(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)), "S", "COST")
	return r.Events == 2
}
