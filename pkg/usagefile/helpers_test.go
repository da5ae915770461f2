package usagefile

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

func dec(s string) events.Decimal { return events.MustDecimal(s) }

func decp(s string) *events.Decimal {
	d := dec(s)
	return &d
}

var day = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// record is a valid QT record; tests change what they need.
func record(id string) Record {
	return Record{
		RecordID: id, ItemSearchCriteria: ItemByMPN, ItemSearchValue: "MPN-STORAGE",
		Quantity: dec("12.5"), StartTimeUTC: day, EndTimeUTC: day.Add(24*time.Hour - time.Second),
		AssetSearchCriteria: AssetByID, AssetSearchValue: "AS-1234-5678-9012",
		Precision: events.PrecisionDecimal2,
	}
}

// writeBook writes records with opts and returns the workbook bytes.
func writeBook(t testing.TB, opts WriteOptions, records ...Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, opts, slices.Values(records)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func readBook(t testing.TB, data []byte, opts ReadOptions) *Workbook {
	t.Helper()
	wb, err := Read(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return wb
}

// dump describes every cell of every sheet: reference, type, raw value and,
// for styled cells, the number format. It is what golden files hold.
func dump(t testing.TB, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(&b, "sheet %s\n", sheet)
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatalf("rows of %s: %v", sheet, err)
		}
		for r, row := range rows {
			for c := range row {
				dumpCell(t, &b, f, sheet, c+1, r+1)
			}
		}
	}
	return b.String()
}

func dumpCell(t testing.TB, b *strings.Builder, f *excelize.File, sheet string, col, row int) {
	t.Helper()
	ref, _ := excelize.CoordinatesToCellName(col, row)
	typ, err := f.GetCellType(sheet, ref)
	if err != nil {
		t.Fatalf("%s!%s type: %v", sheet, ref, err)
	}
	raw, _ := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if raw == "" && typ == excelize.CellTypeUnset {
		return // no cell
	}
	kind := map[excelize.CellType]string{
		excelize.CellTypeUnset: "num", excelize.CellTypeNumber: "num",
		excelize.CellTypeInlineString: "str", excelize.CellTypeSharedString: "str",
	}[typ]
	if kind == "" {
		kind = fmt.Sprintf("type%d", typ)
	}
	fmt.Fprintf(b, "%s %s %q%s\n", ref, kind, raw, numberFormat(t, f, sheet, ref))
}

func numberFormat(t testing.TB, f *excelize.File, sheet, ref string) string {
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil || id == 0 {
		return ""
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatalf("%s!%s style %d: %v", sheet, ref, id, err)
	}
	if st.CustomNumFmt != nil {
		return " fmt " + *st.CustomNumFmt
	}
	return fmt.Sprintf(" numfmt %d", st.NumFmt)
}

// sameRecord reports how got (read back) differs from want (written).
func sameRecord(want Record, got ReadRecord) []string {
	var diffs []string
	check := func(field string, w, g any) {
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%s: want %v, got %v", field, w, g))
		}
	}
	check("record_id", want.RecordID, got.RecordID)
	check("record_note", want.RecordNote, got.RecordNote)
	check("item criteria", want.ItemSearchCriteria+" "+want.ItemSearchValue, got.ItemSearchCriteria+" "+got.ItemSearchValue)
	check("asset criteria", want.AssetSearchCriteria+" "+want.AssetSearchValue, got.AssetSearchCriteria+" "+got.AssetSearchValue)
	check("quantity", want.Quantity.String(), got.Quantity.String())
	wantAmount := "0"
	if want.Amount != nil {
		wantAmount = want.Amount.String()
	}
	check("amount", wantAmount, fmt.Sprint(got.Amount))
	check("start", want.StartTimeUTC.UTC(), got.StartTimeUTC)
	check("end", want.EndTimeUTC.UTC(), got.EndTimeUTC)
	check("item", [4]string{want.ItemName, want.ItemMPN, want.ItemUnit, want.ItemPrecision},
		[4]string{got.ItemName, got.ItemMPN, got.ItemUnit, got.ItemPrecision})
	check("category", want.CategoryID, got.CategoryID)
	check("recon", want.AssetReconID, got.AssetReconID)
	check("tier", want.Tier, got.Tier)
	check("params", fmt.Sprint(want.Params), fmt.Sprint(got.Params))
	if want.ItemPrecision != "" {
		check("precision", want.Precision, got.Precision)
	}
	return diffs
}
