package events

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// realisticBatch is a request body of n events as the ingest bench sends them: a few hundred subscriptions,
// eight sources, three items, two attributes.
func realisticBatch(tb testing.TB, n int, now time.Time) []byte {
	type ev struct {
		SpecVersion string         `json:"specversion"`
		ID          string         `json:"id"`
		Source      string         `json:"source"`
		Type        string         `json:"type"`
		Subject     string         `json:"subject"`
		Time        string         `json:"time"`
		Data        map[string]any `json:"data"`
	}
	items := []struct{ item, quantity string }{{"STORAGE-GB-HOURS", "12.5"}, {"API-REQUESTS", "1"}, {"STORAGE-PEAK-GB", "311.75"}}
	batch := make([]ev, n)
	for i := range batch {
		it := items[i%len(items)]
		batch[i] = ev{
			SpecVersion: "1.0", ID: fmt.Sprintf("evt-00-%08d-%04x", i, i*2654435761%65536),
			Source: fmt.Sprintf("https://metering.example.com/collectors/%d", i%8), Type: EventType,
			Subject: fmt.Sprintf("AS-%04d-%04d-%04d", 1000+i%300, 2000+i%7, 3000+i%11),
			Time:    now.Add(-time.Duration(i%3600) * time.Second).Format(time.RFC3339Nano),
			Data: map[string]any{
				"product": "PRD-100-200-300", "item": it.item, "quantity": it.quantity, "marketplace": "MP-91673",
				"attributes": map[string]string{"region": "eu-west-1", "host": fmt.Sprintf("node-%d", i%50)},
			},
		}
	}
	b, err := json.Marshal(batch)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

const realisticCatalog = `
products:
  - id: PRD-100-200-300
    schema: QT
    currency: EUR
    contracts: [CRD-10001]
    marketplaces: [MP-91673]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 48h
    items:
      - {mpn: STORAGE-GB-HOURS, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE-PEAK-GB, precision: decimal(2), aggregation: max}
      - {mpn: API-REQUESTS, precision: integer, aggregation: count}
`

// BenchmarkSplitBatch500 splits a realistic 500-event body.
func BenchmarkSplitBatch500(b *testing.B) {
	body := realisticBatch(b, 500, time.Now().UTC())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := SplitBatch(body, 1000); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, 500)
}

// BenchmarkDecodeValidate500 decodes and validates every element of a realistic 500-event body.
func BenchmarkDecodeValidate500(b *testing.B) {
	now := time.Now().UTC()
	c, err := ParseCatalog([]byte(realisticCatalog))
	if err != nil {
		b.Fatal(err)
	}
	raws, err := SplitBatch(realisticBatch(b, 500, now), 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		for _, raw := range raws {
			e, rej := DecodeEvent(raw)
			if rej == nil {
				rej = c.Validate(&e, now)
			}
			if rej != nil {
				b.Fatal(rej)
			}
		}
	}
	reportCPU(b, cpu, 500)
}

// BenchmarkEncodePacket500 encodes 500 realistic events, as one request's packets together.
func BenchmarkEncodePacket500(b *testing.B) {
	raws, err := SplitBatch(realisticBatch(b, 500, time.Now().UTC()), 1000)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]Event, len(raws))
	for i, raw := range raws {
		var rej *Rejection
		if evs[i], rej = DecodeEvent(raw); rej != nil {
			b.Fatal(rej)
		}
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		_ = EncodePacket(evs)
	}
	reportCPU(b, cpu, 500)
}

// processCPU is the CPU time (user + system) the test process has used, GC included: under a loaded machine
// it is a steadier measure than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU used since start per op (and per event when events > 0).
func reportCPU(b *testing.B, start time.Duration, events int) {
	cpu := float64(processCPU()-start) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	if events > 0 {
		b.ReportMetric(cpu/float64(events), "cpu-ns/event")
	}
}

// BenchmarkDecodeBatchString500 is BenchmarkDecodeValidate500 the way ingest decodes: the body copied once
// into a string and decoded in place with DecodeBatchString.
func BenchmarkDecodeBatchString500(b *testing.B) {
	now := time.Now().UTC()
	c, err := ParseCatalog([]byte(realisticCatalog))
	if err != nil {
		b.Fatal(err)
	}
	body := realisticBatch(b, 500, now)
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		err := DecodeBatchString(string(body), 1000, func(_ int, e Event, rej *Rejection) {
			if rej == nil {
				rej = c.Validate(&e, now)
			}
			if rej != nil {
				b.Fatal(rej)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, 500)
}
