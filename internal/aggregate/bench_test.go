package aggregate

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// benchCatalog has one sum product whose 30-day periods keep every key open for the whole benchmark.
func benchCatalog(b *testing.B, schema string) *events.Catalog {
	b.Helper()
	c, err := events.ParseCatalog([]byte(`products:
  - id: PRD-BENCH
    schema: ` + schema + `
    currency: USD
    contracts: [CRD-1]
    period: {kind: fixed, every: 720h}
    allowed_lateness: 1h
    max_event_age: 1000h
    items:
      - {mpn: SUM, precision: decimal(4), aggregation: sum}
`))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchEvents returns n events over keys subscriptions, with ids unique within the slice.
func benchEvents(n, keys int, amount bool) []events.Event {
	evs := make([]events.Event, n)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	subs := make([]string, keys)
	for i := range subs {
		subs[i] = fmt.Sprintf("AS-%04d-%04d-%04d", i/1e8, i/1e4%1e4, i%1e4)
	}
	for i := range evs {
		evs[i] = events.Event{
			SpecVersion: events.SpecVersion, ID: "evt-" + strconv.Itoa(i), Source: "bench", Type: events.EventType,
			Subject: subs[i%keys], Time: base.Add(time.Duration(i) * time.Millisecond),
			Data: events.Usage{Product: "PRD-BENCH", Item: "SUM", Quantity: events.MustDecimal(strconv.Itoa(i%100) + ".25")},
		}
		if amount {
			a := events.MustDecimal("0.0125")
			evs[i].Data.Amount = &a
		}
	}
	return evs
}

// BenchmarkApply measures the fold in steady state: 10 000 open keys, packets of 64 new events (unique ids:
// each round of the event pool gets a fresh source), no period closing, and a dedup memory of about a million
// ids that expire as fast as new ones arrive (a one-hour horizon over 16 384 packets). One op is one packet.
func BenchmarkApply(b *testing.B) {
	for _, schema := range []string{"QT", "CR"} {
		b.Run(schema, func(b *testing.B) {
			const pool, packet, horizonPackets = 1 << 14, 64, 1 << 14
			evs := benchEvents(pool, 10000, schema == "CR")
			sources := make([]string, 4096)
			for i := range sources {
				sources[i] = "bench-" + strconv.Itoa(i)
			}
			s := New(Config{Catalog: benchCatalog(b, schema), Partitions: 1, MarkFrom: evs[0].Time, DedupHorizon: time.Hour})
			var out Output
			arrival, step := evs[0].Time, time.Hour/horizonPackets
			seq, at, round := uint64(0), 0, 0
			apply := func() {
				if at == pool {
					at, round = 0, round+1
					for i := range evs {
						evs[i].Source = sources[round%len(sources)]
					}
				}
				seq++
				arrival = arrival.Add(step)
				s.Apply(seq, arrival, evs[at:at+packet], &out)
				at += packet
			}
			for range horizonPackets * 5 / 4 { // warm up: every key exists, the dedup memory is full
				apply()
			}
			runtime.GC() // collect the warm-up's garbage now rather than during the measurement
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				apply()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packet), "ns/event")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*packet), "cpu-ns/event")
			b.ReportMetric(float64(s.Stats().RememberedIDs), "ids")
			if out.Len() != 0 {
				b.Fatalf("unexpected output: %d items", out.Len())
			}
		})
	}
}

// BenchmarkOpenKeyMemory measures the heap held per open key (aggregate, index, period list, subscription),
// excluding the dedup memory, which Stats reports exactly and BenchmarkDedupMemory measures. The key index
// doubles when it passes 3/4 of its slots (196 608 keys of 262 144), so 200k keys pay for an index of 524 288
// slots (21 bytes a key) and 150k keys for 262 144 (14 bytes a key): both sizes are reported.
func BenchmarkOpenKeyMemory(b *testing.B) {
	for _, schema := range []string{"QT", "CR"} {
		for _, keys := range []int{150000, 200000} {
			b.Run(fmt.Sprintf("%s/%dk", schema, keys/1000), func(b *testing.B) {
				benchKeyMemory(b, schema, keys)
			})
		}
	}
}

func benchKeyMemory(b *testing.B, schema string, keys int) {
	evs := benchEvents(keys, keys, schema == "CR")
	cat := benchCatalog(b, schema)
	var perKey float64
	for b.Loop() {
		before := heapInUse()
		s := New(Config{Catalog: cat, Partitions: 1, MarkFrom: evs[0].Time})
		var out Output
		for i := 0; i < keys; i += 100 {
			s.Apply(uint64(i+1), evs[0].Time, evs[i:i+100], &out)
		}
		after := heapInUse()
		st := s.Stats()
		if st.OpenKeys != keys {
			b.Fatalf("open keys %d", st.OpenKeys)
		}
		perKey = float64(after-before-uint64(st.DedupBytes)) / float64(keys)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perKey, "B/key")
}

// BenchmarkDedupMemory measures the dedup table per remembered id in steady state: a constant event rate over
// two horizons, so ids expire as fast as they arrive.
func BenchmarkDedupMemory(b *testing.B) {
	const perHour, hours = 20000, 48
	var perID, maxPerID float64
	for b.Loop() {
		ids := newIDSet(int64(24 * time.Hour))
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		maxPerID = 0
		for i := 0; i < perHour*hours; i++ {
			ids.advance(start + int64(i)*int64(time.Hour)/perHour)
			h := mix64(uint64(i) + 1)
			if !ids.contains(h) {
				ids.add(h)
			}
			if i > perHour*26 && i%1000 == 0 {
				maxPerID = max(maxPerID, float64(ids.bytes())/float64(ids.used))
			}
		}
		perID = float64(ids.bytes()) / float64(ids.used)
	}
	b.ReportMetric(perID, "B/id")
	b.ReportMetric(maxPerID, "max-B/id")
}

// cpuTime is the process's user+system CPU time in nanoseconds: on a shared machine it is a steadier measure
// than wall time, as long as nothing else runs in the process (the benchmarks allocate nothing, so the GC idles).
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSnapshot measures Snapshot and Restore of a state with 100 000 open keys and as many remembered ids.
func BenchmarkSnapshot(b *testing.B) {
	const keys = 100000
	evs := benchEvents(keys, keys, false)
	cfg := Config{Catalog: benchCatalog(b, "QT"), Partitions: 1, MarkFrom: evs[0].Time}
	s := New(cfg)
	var out Output
	for i := 0; i < keys; i += 100 {
		s.Apply(uint64(i+1), evs[0].Time, evs[i:i+100], &out)
	}
	var buf bytes.Buffer
	b.Run("Snapshot", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := s.Snapshot(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len())/keys, "B/key")
	})
	b.Run("Restore", func(b *testing.B) {
		for b.Loop() {
			if _, err := Restore(cfg, bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
}
