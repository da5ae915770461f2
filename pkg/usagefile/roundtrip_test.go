package usagefile

import (
	"archive/zip"
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// schemaRecords are records of every shape each schema allows.
func schemaRecords(s events.Schema) []Record {
	a := record("UF-2026-11-0001-0001_1")
	a.RecordNote = "daily storage"
	a.AssetReconID = "recon-7"
	b := record("UF-2026-11-0001-0001_2")
	b.Quantity, b.Precision = dec("12345678901.12345678"), events.PrecisionDecimal8
	b.ItemSearchCriteria, b.ItemSearchValue = ItemByLocalID, "PRD_736_723_721_0329"
	b.AssetSearchCriteria, b.AssetSearchValue = "parameter.subscription_id", "sub-42"
	c := record("UF-2026-11-0001-0001_3") // dynamic item, integer precision
	c.Quantity, c.Precision = dec("-3"), events.PrecisionInteger
	c.ItemSearchCriteria, c.ItemSearchValue = ItemByGlobalID, "PRD-838-787-106-0003"
	c.ItemName, c.ItemMPN, c.ItemUnit, c.ItemPrecision = "Extra GB", "MPN-EXTRA", "GB", "integer"
	c.Params = map[string]string{"v.region": "eu-west"}
	c.StartTimeUTC = time.Date(2026, 11, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600))
	recs := []Record{a, b, c}
	for i := range recs {
		switch s {
		case events.SchemaCR, events.SchemaPR:
			recs[i].Amount = decp([]string{"10.5", "0.00000001", "-2"}[i])
		case events.SchemaTR:
			recs[i].Tier = i + 1
			if i == 0 {
				recs[i].Amount = decp("99.99")
			}
		case events.SchemaQT:
			if i == 1 {
				recs[i].Amount = decp("1.25") // allowed, written as given
			}
		}
	}
	return recs
}

var schemas = []events.Schema{events.SchemaQT, events.SchemaTR, events.SchemaCR, events.SchemaPR}

func TestRoundTripGolden(t *testing.T) {
	for _, s := range schemas {
		t.Run(string(s), func(t *testing.T) {
			recs := schemaRecords(s)
			data := writeBook(t, WriteOptions{Schema: s, ParamColumns: []string{"v.region"}}, recs...)
			golden(t, "records_"+string(s)+".golden", dump(t, data))
			wb := readBook(t, data, ReadOptions{Schema: s})
			if err := wb.Err(); err != nil {
				t.Fatalf("problems reading back: %v", err)
			}
			if len(wb.Records) != len(recs) {
				t.Fatalf("read %d records, wrote %d", len(wb.Records), len(recs))
			}
			for i, want := range recs {
				if want.CategoryID == "" {
					want.CategoryID = DefaultCategory.ID
				}
				if diffs := sameRecord(want, wb.Records[i]); len(diffs) > 0 {
					t.Errorf("record %d:\n%s", i, strings.Join(diffs, "\n"))
				}
			}
			if len(wb.Categories) != 1 || wb.Categories[0] != DefaultCategory {
				t.Errorf("categories = %+v, want the default one", wb.Categories)
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	opts := WriteOptions{Schema: events.SchemaTR, ParamColumns: []string{"v.region"}}
	first := writeBook(t, opts, schemaRecords(events.SchemaTR)...)
	second := writeBook(t, opts, schemaRecords(events.SchemaTR)...)
	if !bytes.Equal(first, second) {
		t.Fatal("two writes of the same records differ")
	}
	// Equal bytes within one test could still hide a clock stamp: check
	// that neither the zip entries nor the document properties carry one.
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	year := strconv.Itoa(time.Now().Year())
	for _, f := range zr.File {
		if f.Modified.Year() >= 2000 {
			t.Errorf("zip entry %s stamped %v", f.Name, f.Modified)
		}
		if f.Name == "docProps/core.xml" {
			rc, _ := f.Open()
			core, _ := io.ReadAll(rc)
			if strings.Contains(string(core), ">"+year+"-") {
				t.Errorf("core properties stamped with this year: %s", core)
			}
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what was written (go test -update rewrites it)\n--- got\n%s", path, got)
	}
}
