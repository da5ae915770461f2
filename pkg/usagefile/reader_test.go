package usagefile

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

// sheet is a worksheet for a hand-built workbook: rows of cells, where a
// string is a text cell and num a numeric cell holding exactly that text.
type sheet struct {
	name string
	rows [][]any
}

type num string

// build makes an xlsx the way another tool might: in-memory excelize,
// shared strings, sheets in the given order.
func build(t testing.TB, sheets ...sheet) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			must(t, f.SetSheetName("Sheet1", s.name))
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			for c, v := range row {
				ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
				switch v := v.(type) {
				case num:
					must(t, f.SetCellDefault(s.name, ref, string(v)))
				case nil:
				default:
					must(t, f.SetCellValue(s.name, ref, v))
				}
			}
		}
	}
	var buf bytes.Buffer
	must(t, f.Write(&buf))
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadLegacyShuffledTextNumbers: legacy sheet and id names, columns in
// another order, numbers as text and as numeric cells, extra sheets and
// columns, a blank row and a header below an empty first row.
func TestReadLegacyShuffledTextNumbers(t *testing.T) {
	data := build(t,
		sheet{"instructions", [][]any{{"Fill the usage_records sheet"}}},
		sheet{"usage_records", [][]any{
			nil,
			{"quantity", "end_time_utc", "asset_search_value", " Usage_Record_ID ", "start_time_utc",
				"item_search_value", "asset_search_criteria", "item_search_criteria", "amount", "v.region"},
			{"4.0000", "2021-07-08 23:59:59", "AS-1", "R18-001", "2021-07-05 00:00:00", "MPN-1", "asset.id", "item.mpn", num("1.5E-3"), "eu"},
			nil,
			{num("0.1"), "2021-07-08 23:59:59", "AS-2", "R18-002", "2021-07-05 00:00:00", "MPN-1", "asset.id", "item.mpn", nil},
		}},
		sheet{"general", [][]any{{"attribute_id", "attribute_value"}}},
	)
	wb := readBook(t, data, ReadOptions{})
	if err := wb.Err(); err != nil {
		t.Fatal(err)
	}
	if wb.Sheet != SheetRecordsLegacy || len(wb.Records) != 2 {
		t.Fatalf("sheet %q, %d records; want usage_records, 2", wb.Sheet, len(wb.Records))
	}
	a, b := wb.Records[0], wb.Records[1]
	got := fmt.Sprintf("%s row %d q=%s amount=%s %s %v | %s row %d q=%s amount=%v",
		a.RecordID, a.Row, a.Quantity, a.Amount, a.EndTimeUTC.Format(time.RFC3339), a.Params,
		b.RecordID, b.Row, b.Quantity, b.Amount)
	want := "R18-001 row 3 q=4 amount=0.0015 2021-07-08T23:59:59Z map[v.region:eu] | R18-002 row 5 q=0.1 amount=<nil>"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReadPrefersRecordsOverLegacy(t *testing.T) {
	header := []any{"record_id", "item_search_criteria", "item_search_value", "quantity",
		"start_time_utc", "end_time_utc", "asset_search_criteria", "asset_search_value"}
	row := func(id string) []any {
		return []any{id, "item.mpn", "M", num("1"), "2026-11-01 00:00:00", "2026-11-02 00:00:00", "asset.id", "AS-1"}
	}
	data := build(t,
		sheet{"usage_records", [][]any{header, row("legacy")}},
		sheet{"Records", [][]any{header, row("current")}},
	)
	wb := readBook(t, data, ReadOptions{})
	if wb.Sheet != "Records" || wb.Records[0].RecordID != "current" {
		t.Errorf("read sheet %q record %q, want Records/current", wb.Sheet, wb.Records[0].RecordID)
	}
}

// TestReadProblems: each row has one thing wrong; every problem names its
// row and column and wraps the right sentinel; good rows have none.
func TestReadProblems(t *testing.T) {
	header := []any{"record_id", "item_search_criteria", "item_search_value", "quantity", "amount",
		"start_time_utc", "end_time_utc", "asset_search_criteria", "asset_search_value", "item_precision", "tier"}
	ok := []any{"r", "item.mpn", "M", num("1"), num("2"), "2026-11-01 00:00:00", "2026-11-02 00:00:00", "asset.id", "AS-1", nil, num("1")}
	with := func(id string, col int, v any) []any {
		row := append([]any(nil), ok...)
		row[0] = id
		if col >= 0 {
			row[col] = v
		}
		return row
	}
	tests := []struct {
		row    []any
		column string
		err    error
	}{
		{with("good", -1, nil), "", nil},
		{with("text quantity", 3, "abc"), ColQuantity, ErrBadNumber},
		{with("empty quantity", 3, nil), ColQuantity, ErrMissingValue},
		{with("nan amount", 4, "NaN"), ColAmount, ErrBadNumber},
		{with("empty amount", 4, nil), ColAmount, ErrMissingValue}, // schema CR below
		{with("bad date", 5, "01/11/2026"), ColStartTime, ErrBadTime},
		{with("end first", 6, "2026-10-31 00:00:00"), ColEndTime, ErrBadTime},
		{with("bad item criteria", 1, "item.id"), ColItemSearchCriteria, ErrBadCriteria},
		{with("bad asset criteria", 7, "asset.uid"), ColAssetSearchCriteria, ErrBadCriteria},
		{with("no asset", 8, nil), ColAssetSearchValue, ErrMissingValue},
		{with("bad precision", 9, "decimal(3)"), ColItemPrecision, ErrBadPrecision},
		{with("fraction tier", 10, num("1.5")), ColTier, ErrBadNumber},
		{with("good", -1, nil), ColRecordID, ErrDuplicateRecordID},
		{with("", -1, nil), ColRecordID, ErrMissingValue},
	}
	rows := [][]any{header}
	for _, tt := range tests {
		rows = append(rows, tt.row)
	}
	wb := readBook(t, build(t, sheet{"records", rows}), ReadOptions{Schema: events.SchemaCR})
	if len(wb.Records) != len(tests) {
		t.Fatalf("%d records, want %d", len(wb.Records), len(tests))
	}
	for i, tt := range tests {
		rec := wb.Records[i]
		if tt.err == nil {
			if !rec.Valid() {
				t.Errorf("row %d: unexpected problems %v", rec.Row, rec.Problems)
			}
			continue
		}
		if len(rec.Problems) != 1 {
			t.Errorf("row %d (%v): problems %v, want one %v", rec.Row, tt.row[0], rec.Problems, tt.err)
			continue
		}
		p := rec.Problems[0]
		if p.Row != i+2 || p.Column != tt.column || !errors.Is(p, tt.err) {
			t.Errorf("problem %q = row %d column %q; want row %d column %q %v", p, p.Row, p.Column, i+2, tt.column, tt.err)
		}
	}
}

func TestReadMissingColumn(t *testing.T) {
	data := build(t, sheet{"records", [][]any{
		{"record_id", "item_search_criteria", "item_search_value", "start_time_utc", "end_time_utc",
			"asset_search_criteria", "asset_search_value", "record_id"},
		{"r", "item.mpn", "M", "2026-11-01 00:00:00", "2026-11-02 00:00:00", "asset.id", "AS-1", "again"},
	}})
	wb := readBook(t, data, ReadOptions{Schema: events.SchemaTR})
	var missing []string
	for _, p := range wb.Records[0].Problems {
		if errors.Is(p, ErrMissingColumn) && p.Row == 2 {
			missing = append(missing, p.Column)
		}
	}
	if fmt.Sprint(missing) != "[quantity tier]" {
		t.Errorf("missing columns %v, want [quantity tier] (problems %v)", missing, wb.Records[0].Problems)
	}
	if len(wb.Problems) != 1 || !errors.Is(wb.Problems[0], ErrDuplicateColumn) || wb.Problems[0].Row != 1 {
		t.Errorf("workbook problems %v, want the duplicate record_id header", wb.Problems)
	}
	if wb.Records[0].RecordID != "r" {
		t.Errorf("record id %q, want the first record_id column", wb.Records[0].RecordID)
	}
}

// TestReadExcelDates: a date typed in Excel is a serial number cell.
func TestReadExcelDates(t *testing.T) {
	start := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)
	data := build(t, sheet{"records", [][]any{
		{"record_id", "item_search_criteria", "item_search_value", "quantity", "start_time_utc", "end_time_utc",
			"asset_search_criteria", "asset_search_value"},
		{"r", "item.mpn", "M", 3, start, start.Add(time.Hour), "asset.id", "AS-1"},
	}})
	rec := readBook(t, data, ReadOptions{}).Records[0]
	if !rec.Valid() || !rec.StartTimeUTC.Equal(start) || !rec.EndTimeUTC.Equal(start.Add(time.Hour)) {
		t.Errorf("read %v – %v (problems %v), want %v – +1h", rec.StartTimeUTC, rec.EndTimeUTC, rec.Problems, start)
	}
}

func TestReadRejectsNonWorkbooks(t *testing.T) {
	tests := map[string]struct {
		data []byte
		want error
	}{
		"text":             {[]byte("record_id,quantity\nr1,4\n"), ErrNotWorkbook},
		"empty":            {nil, ErrNotWorkbook},
		"truncated":        {writeBook(t, WriteOptions{Schema: events.SchemaQT}, record("r"))[:300], ErrNotWorkbook},
		"no records sheet": {build(t, sheet{"instructions", [][]any{{"hello"}}}), ErrNoRecordsSheet},
	}
	for name, tt := range tests {
		if wb, err := Read(bytes.NewReader(tt.data), ReadOptions{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: Read = %v, %v; want %v", name, wb, err, tt.want)
		}
	}
}

func TestReadSizeLimit(t *testing.T) {
	data := writeBook(t, WriteOptions{Schema: events.SchemaQT}, record("r"))
	if _, err := Read(bytes.NewReader(data), ReadOptions{MaxSize: 1000}); !errors.Is(err, ErrNotWorkbook) {
		t.Errorf("Read over MaxSize = %v, want ErrNotWorkbook", err)
	}
}

func TestReadEmptyRecordsSheet(t *testing.T) {
	header := []any{"record_id", "quantity"}
	for name, rows := range map[string][][]any{"no rows": nil, "header only": {header}} {
		wb := readBook(t, build(t, sheet{"records", rows}), ReadOptions{})
		if len(wb.Problems) != 1 || !errors.Is(wb.Problems[0], ErrNoRecords) || !errors.Is(wb.Err(), ErrNoRecords) {
			t.Errorf("%s: problems %v, want ErrNoRecords", name, wb.Problems)
		}
	}
}
