package usagefile

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// benchRecords yields n CR records shaped like the submitter's: one item
// and asset per record, deterministic ids, amounts and quantities.
func benchRecords(n int) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		qty := []events.Decimal{dec("12.5"), dec("0.0001"), dec("123456.789"), dec("7")}
		amt := []events.Decimal{dec("10.25"), dec("0.5"), dec("99999.99"), dec("3")}
		for i := range n {
			r := Record{
				RecordID: fmt.Sprintf("UF-2026-11-0001-0001_%d", i), ItemSearchCriteria: ItemByMPN,
				ItemSearchValue: "MPN-STORAGE", Quantity: qty[i%4], Amount: &amt[i%4],
				StartTimeUTC: day, EndTimeUTC: day.Add(24*time.Hour - time.Second),
				AssetSearchCriteria: AssetByID, AssetSearchValue: fmt.Sprintf("AS-%04d-%04d-0001", i/10000, i%10000),
				Precision: events.PrecisionDecimal4,
			}
			if !yield(r) {
				return
			}
		}
	}
}

// BenchmarkWrite100k writes 100 000 records, built beforehand; the target
// is under a second.
func BenchmarkWrite100k(b *testing.B) {
	records := slices.Collect(benchRecords(100_000))
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, WriteOptions{Schema: events.SchemaCR}, slices.Values(records)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead100k reads back a workbook of 100 000 records, as the
// emulator does with an upload.
func BenchmarkRead100k(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, WriteOptions{Schema: events.SchemaCR}, benchRecords(100_000)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		wb, err := Read(bytes.NewReader(buf.Bytes()), ReadOptions{Schema: events.SchemaCR})
		if err != nil || len(wb.Records) != 100_000 || wb.Err() != nil {
			b.Fatalf("read %v records, %v", len(wb.Records), err)
		}
	}
}
