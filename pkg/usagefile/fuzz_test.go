package usagefile

import (
	"bytes"
	"fmt"
	"os"
	"time"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// FuzzRead: whatever the bytes, Read returns a workbook or an error and
// never panics; a workbook it returns is self-consistent.
func FuzzRead(f *testing.F) {
	good := writeBook(f, WriteOptions{Schema: events.SchemaTR, ParamColumns: []string{"v.region"}},
		schemaRecords(events.SchemaTR)...)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(build(f, sheet{"usage_records", [][]any{
		{"usage_record_id", "quantity", "start_time_utc"}, {"r", "4.0000", "bad"}, {"r", num("1e3"), nil},
	}}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		os.WriteFile("/tmp/current_fuzz", data, 0o644)
		start := time.Now()
		wb, err := Read(bytes.NewReader(data), ReadOptions{MaxSize: 16 << 20})
		if time.Since(start) > 500*time.Millisecond {
			os.WriteFile(fmt.Sprintf("/tmp/slowfuzz_%d", time.Now().UnixNano()), data, 0o644)
		}
		if err != nil {
			if wb != nil {
				t.Fatalf("Read returned a workbook and %v", err)
			}
			return
		}
		for _, r := range wb.Records {
			if r.Row < 1 {
				t.Fatalf("record on row %d", r.Row)
			}
			for _, p := range r.Problems {
				if p.Row != r.Row || p.Err == nil {
					t.Fatalf("problem %v on record row %d", p, r.Row)
				}
			}
		}
	})
}
