package usagefile

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

func TestWriteProcessed(t *testing.T) {
	general := []Attribute{
		{"report_name", "07/05/2021 - 07/08/2021"}, {"report_id", "UF-2021-07-2818-2430"}, {"status", "invalid"},
		{"valid_records", "1"}, {"invalid_records", "1"}, {"usage_schema", "QT"},
	}
	valid := ProcessedRecord{Record: record("r1"), Status: StatusValid}
	valid.CategoryID = DefaultCategory.ID
	invalid := ProcessedRecord{Record: record("r2"), Status: StatusInvalid, Error: "item MPN-STORAGE not found"}
	invalid.Quantity = dec("0.123") // more decimals than its precision: written as read, 4 places
	invalid.ItemSearchCriteria = "item.bogus"
	var buf bytes.Buffer
	err := WriteProcessed(&buf, ProcessedOptions{General: general}, slices.Values([]ProcessedRecord{valid, invalid}))
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	golden(t, "processed.golden", dump(t, data))

	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := fmt.Sprint(f.GetSheetList()); got != "[general categories records]" {
		t.Errorf("sheets %s, want [general categories records]", got)
	}
	rows, _ := f.GetRows(SheetGeneral)
	if len(rows) != len(general)+1 || rows[2][0] != "report_id" || rows[2][1] != "UF-2021-07-2818-2430" {
		t.Errorf("general sheet %q", rows)
	}

	wb := readBook(t, data, ReadOptions{Schema: events.SchemaQT})
	a, b := wb.Records[0], wb.Records[1]
	if a.Status != StatusValid || a.Error != "" || !a.Valid() || len(a.Params) != 0 {
		t.Errorf("valid record read as %+v", a)
	}
	if b.Status != StatusInvalid || b.Error != invalid.Error || b.Quantity.String() != "0.123" {
		t.Errorf("invalid record read as status %q error %q quantity %s", b.Status, b.Error, b.Quantity)
	}
}
