package usagefile

import (
	"archive/zip"
	"bytes"
	"io"
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
	for _, data := range malformedParts(f) {
		f.Add(data)
	}
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		wb, err := Read(bytes.NewReader(data), ReadOptions{MaxSize: 16 << 20})
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

// corruptPart returns data (a zip) with the named part's content replaced.
func corruptPart(t testing.TB, data []byte, name string, content func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		if f.Name == name {
			body = content(body)
		}
		w, _ := zw.Create(f.Name)
		_, _ = w.Write(body)
	}
	must(t, zw.Close())
	return out.Bytes()
}

// malformedParts are the workbook with each part truncated, emptied or
// replaced by XML of the wrong shape.
func malformedParts(t testing.TB) [][]byte {
	good := writeBook(t, WriteOptions{Schema: events.SchemaQT}, record("r1"), record("r2"))
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range zr.File {
		for _, change := range []func([]byte) []byte{
			func(b []byte) []byte { return b[:len(b)/2] },
			func([]byte) []byte { return nil },
			func([]byte) []byte {
				return []byte(`<?xml version="1.0"?><worksheet><sheetData><row r="0"><c r="ZZZZZZ0" t="s"><v>99</v></c></row></sheetData></worksheet>`)
			},
		} {
			out = append(out, corruptPart(t, good, f.Name, change))
		}
	}
	return out
}

func TestReadMalformedParts(t *testing.T) {
	for i, data := range malformedParts(t) {
		wb, err := Read(bytes.NewReader(data), ReadOptions{})
		if (wb == nil) == (err == nil) {
			t.Errorf("case %d: Read = %v, %v; want exactly one", i, wb, err)
		}
	}
}
