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

// TestProcessedCellComments: the explanations of a processed record are comments on their cells, the
// decimals around them stay exact, and Read gives them back.
func TestProcessedCellComments(t *testing.T) {
	invalid := ProcessedRecord{Record: record("r1"), Status: StatusInvalid, Error: "quantity: too precise; item_search_value: unknown",
		Cells: []CellError{{ColQuantity, "too precise"}, {ColItemSearchValue, "unknown"}, {ColQuantity, "negative"}, {"", "whole row"}}}
	invalid.Quantity = dec("0.12345")
	var buf bytes.Buffer
	if err := WriteProcessed(&buf, ProcessedOptions{}, slices.Values([]ProcessedRecord{{Record: record("r0"), Status: StatusValid}, invalid})); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	comments, err := f.GetComments(SheetRecords)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range comments {
		got[c.Cell] = c.Text
	}
	want := map[string]string{"F3": "too precise; negative", "D3": "unknown", "A3": "whole row"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("comments %v, want %v", got, want)
	}
	wb := readBook(t, buf.Bytes(), ReadOptions{})
	r := wb.Records[1]
	if r.Error != invalid.Error || r.Quantity.String() != "0.12345" || len(r.Cells) != 3 || r.Cells[0].Column != ColRecordID {
		t.Errorf("read back error %q quantity %s cells %+v", r.Error, r.Quantity, r.Cells)
	}
	if wb.Records[0].Error != "" || len(wb.Records[0].Cells) != 0 {
		t.Errorf("valid row read back with %q %+v", wb.Records[0].Error, wb.Records[0].Cells)
	}
}

// TestReadErrorFromComments: a processed workbook that explains errors only in cell comments (no error
// column), as Connect's does, still gives each row its error text.
func TestReadErrorFromComments(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetName("Sheet1", SheetRecords)
	rows := [][]any{{ColRecordID, ColQuantity, ColStatus, ColItemSearchValue}, {"r1", "abc", "invalid", "MPN-X"}, {"r2", "1", "valid", "MPN-Y"}}
	for i, row := range rows {
		_ = f.SetSheetRow(SheetRecords, cellName(i+1), &row)
	}
	for cell, text := range map[string]string{"B2": "Not a number.", "D2": "Item not found."} {
		if err := f.AddComment(SheetRecords, excelize.Comment{Author: "Connect", Cell: cell, Paragraph: []excelize.RichTextRun{{Text: "Connect:\n"}, {Text: text}}}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	wb := readBook(t, buf.Bytes(), ReadOptions{})
	want := "quantity: Not a number.; item_search_value: Item not found."
	if r := wb.Records[0]; r.Status != StatusInvalid || r.Error != want {
		t.Errorf("row 2: status %q error %q, want invalid %q", r.Status, r.Error, want)
	}
	if r := wb.Records[1]; r.Error != "" {
		t.Errorf("row 3: error %q", r.Error)
	}
}

// TestProcessedCommentsBounded: past MaxComments cells, explanations stay in the error column only.
func TestProcessedCommentsBounded(t *testing.T) {
	rows := func(yield func(ProcessedRecord) bool) {
		for i := range MaxComments + 5 {
			r := ProcessedRecord{Record: record(fmt.Sprint("r", i)), Status: StatusInvalid, Error: "quantity: bad", Cells: []CellError{{ColQuantity, "bad"}}}
			if !yield(r) {
				return
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteProcessed(&buf, ProcessedOptions{}, rows); err != nil {
		t.Fatal(err)
	}
	wb := readBook(t, buf.Bytes(), ReadOptions{})
	first, last := wb.Records[MaxComments-1], wb.Records[MaxComments]
	if len(first.Cells) != 1 || len(last.Cells) != 0 || last.Error != "quantity: bad" {
		t.Errorf("row %d cells %+v, row %d cells %+v error %q", first.Row, first.Cells, last.Row, last.Cells, last.Error)
	}
}
