package pipeline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
)

func TestPeriodStartMatchesTheCatalog(t *testing.T) {
	for _, period := range []time.Duration{time.Minute, 7 * time.Second, time.Hour} {
		c := DefaultConfig
		c.Period = period
		p, _ := testCatalog(t, c).Product(productID(0))
		rng := rand.New(rand.NewPCG(1, 2))
		for range 1000 {
			at := time.Unix(1_700_000_000+rng.Int64N(100_000_000), rng.Int64N(1e9))
			if have, want := periodStart(at, period), p.PeriodOf(at).Start.Unix(); have != want {
				t.Fatalf("period %v at %v: start %d, the catalog's %d", period, at, have, want)
			}
		}
	}
}

// TestTruthFollowsProbesIntoFiles: probes are contained once their key's accepted quantity covers what was
// stored up to them, with the latency from the later of storage and period close; a resend is stored once.
func TestTruthFollowsProbesIntoFiles(t *testing.T) {
	tr := newTruth(time.Minute, 10*time.Second)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	closeAt := start.Add(70 * time.Second)
	ev := func(seq uint64, cents int64, late bool) send {
		return send{seq: seq, time: start.Add(time.Duration(seq) * time.Second).UnixNano(), cents: cents, sub: 3, item: 1, late: late}
	}
	tr.stored([]send{ev(0, 100, false)}, start.Add(time.Second)) // before following: counted, not a probe
	tr.follow(1)
	tr.stored([]send{ev(1, 200, false), ev(2, 300, false)}, start.Add(2*time.Second))
	again := ev(2, 300, false)
	again.resend = true
	tr.stored([]send{again}, start.Add(3*time.Second))
	tr.stored([]send{ev(3, 50, true)}, closeAt.Add(5*time.Second)) // arrived after the close: a late probe
	tr.stopFollowing()
	tr.stored([]send{ev(4, 1, false)}, closeAt.Add(6*time.Second))

	k := tr.keyOf(&send{time: start.UnixNano(), sub: 3, item: 1})
	if kt := tr.keys[k]; kt.stored != 651 || len(kt.probes) != 3 {
		t.Fatalf("key holds %d cents and %d probes, want 651 and 3", kt.stored, len(kt.probes))
	}
	tr.contained(k, 300, closeAt.Add(2*time.Second)) // the base file holds events 0 and 1 only
	if e := tr.figures(); e.onTime.n != 1 || e.onTime.max != 2*time.Second || e.open != 2 {
		t.Fatalf("after a file of 300: %+v", e)
	}
	tr.contained(k, 351, closeAt.Add(40*time.Second)) // a supplement with the rest
	e := tr.figures()
	if e.onTime.n != 2 || e.onTime.max != 40*time.Second || e.late.n != 1 || e.late.max != 35*time.Second || e.open != 0 {
		t.Fatalf("after the supplement: %+v", e)
	}
	if keys, differ := tr.differences(start.Unix(), start.Unix()); keys != 1 || differ != 0 {
		t.Errorf("differences: %d keys, %d differ", keys, differ)
	}
	tr.contained(tr.keyOf(&send{time: start.UnixNano(), sub: 4}), 1, closeAt)
	if tr.figures().unknown != 1 {
		t.Error("a record of a key nothing was stored for is not counted")
	}
}

func TestTruthLatenciesCountOpenProbesAtTheirAge(t *testing.T) {
	tr := newTruth(time.Minute, 10*time.Second)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tr.follow(1)
	tr.stored([]send{{seq: 1, time: start.UnixNano(), cents: 5}}, start)
	onTime, late, open := tr.latencies(start.Add(100 * time.Second))
	if open != 1 || len(late) != 0 || len(onTime) != 1 || onTime[0] != 30*time.Second {
		t.Errorf("latencies = %v, %v, %d; want one open on-time probe of 30s (100s after the start, 70s after the close)", onTime, late, open)
	}
}

func TestKeyOfRecordInvertsTheKeys(t *testing.T) {
	tr := newTruth(time.Minute, 10*time.Second)
	at := time.Date(2026, 12, 1, 10, 5, 17, 0, time.UTC)
	const subscriptions = 20_000
	for _, sub := range []int32{0, 1, 9999, 12345, subscriptions - 1} {
		s := send{time: at.UnixNano(), sub: sub, item: 2}
		rk := reconcile.Key{Asset: subscriptionID(int(sub)), Item: items[2].mpn, Period: "20261201T100500Z"}
		if k, err := tr.keyOfRecord(rk, subscriptions); err != nil || k != tr.keyOf(&s) {
			t.Errorf("subscription %d: key %x, %v; want %x", sub, k, err, tr.keyOf(&s))
		}
	}
	for _, bad := range []reconcile.Key{
		{Asset: "AS-0000-0002-0000", Item: "API-CALLS", Period: "20261201T100500Z"}, // subscription 20 000: not of the run
		{Asset: "AS-0000-0000-0002", Item: "NOPE", Period: "20261201T100500Z"},
		{Asset: "AS-0000-0000-0002", Item: "API-CALLS", Period: "2026-12-01"},
		{Asset: "AS-1-2", Item: "API-CALLS", Period: "20261201T100500Z"},
		{Asset: "AS-0000-0000-02", Item: "API-CALLS", Period: "20261201T100500Z"},
	} {
		if _, err := tr.keyOfRecord(bad, subscriptions); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}
