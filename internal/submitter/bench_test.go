package submitter

import (
	"fmt"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// BenchmarkBuildWorkbook10k measures the workbook of a 10 000-record file (the submitter's own CPU per file;
// `usagepipe bench submitter` measures the whole path to Connect).
func BenchmarkBuildWorkbook10k(b *testing.B) {
	spec := testSpec(events.SchemaQT)
	srcs := make([]source, 10_000)
	for i := range srcs {
		srcs[i] = testSource(events.RecordClosed, fmt.Sprintf("AS-%06d", i), "CPU", fmt.Sprintf("%d.1234", i), 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		wb, err := buildWorkbook(&spec, srcs)
		if err != nil || wb.rows != len(srcs) {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(wb.data)))
	}
}
