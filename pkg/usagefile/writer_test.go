package usagefile

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestAddRejectsInvalidRecords(t *testing.T) {
	tests := []struct {
		name   string
		schema events.Schema
		change func(r *Record)
		column string
	}{
		{"no record id", events.SchemaQT, func(r *Record) { r.RecordID = "" }, ColRecordID},
		{"item criteria", events.SchemaQT, func(r *Record) { r.ItemSearchCriteria = "item.id" }, ColItemSearchCriteria},
		{"no item value", events.SchemaQT, func(r *Record) { r.ItemSearchValue = "" }, ColItemSearchValue},
		{"asset criteria", events.SchemaQT, func(r *Record) { r.AssetSearchCriteria = "parameter." }, ColAssetSearchCriteria},
		{"no asset value", events.SchemaQT, func(r *Record) { r.AssetSearchValue = "" }, ColAssetSearchValue},
		{"no start", events.SchemaQT, func(r *Record) { r.StartTimeUTC = time.Time{} }, ColStartTime},
		{"end before start", events.SchemaQT, func(r *Record) { r.EndTimeUTC = r.StartTimeUTC.Add(-time.Second) }, ColEndTime},
		{"precision 3", events.SchemaQT, func(r *Record) { r.Precision = 3 }, "precision"},
		{"quantity too precise", events.SchemaQT, func(r *Record) { r.Quantity = dec("1.125") }, ColQuantity},
		{"item precision disagrees", events.SchemaQT, func(r *Record) { r.ItemPrecision = "decimal(4)" }, ColItemPrecision},
		{"amount too precise", events.SchemaCR, func(r *Record) { r.Amount = decp("0.000000001") }, ColAmount},
		{"CR without amount", events.SchemaCR, func(r *Record) {}, ColAmount},
		{"PR without amount", events.SchemaPR, func(r *Record) {}, ColAmount},
		{"TR without tier", events.SchemaTR, func(r *Record) {}, ColTier},
		{"QT with tier", events.SchemaQT, func(r *Record) { r.Tier = 1 }, ColTier},
		{"unknown category", events.SchemaQT, func(r *Record) { r.CategoryID = "nope" }, ColCategoryID},
		{"undeclared param", events.SchemaQT, func(r *Record) { r.Params = map[string]string{"v.x": "1"} }, "v.x"},
		{"param named like a column", events.SchemaQT, func(r *Record) { r.Params = map[string]string{ColQuantity: "1"} }, ColQuantity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, WriteOptions{Schema: tt.schema})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			r := record("r1")
			tt.change(&r)
			err = w.Add(r)
			if !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), tt.column+":") {
				t.Fatalf("Add = %v, want ErrInvalidRecord about %s", err, tt.column)
			}
		})
	}
}

func TestRejectedRecordLeavesWorkbookUsable(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriteOptions{Schema: events.SchemaQT})
	if err != nil {
		t.Fatal(err)
	}
	bad := record("bad")
	bad.Quantity = dec("0.001")
	if err := w.Add(bad); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Add(bad) = %v", err)
	}
	if err := w.Add(record("good")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wb := readBook(t, buf.Bytes(), ReadOptions{})
	if len(wb.Records) != 1 || wb.Records[0].RecordID != "good" || wb.Records[0].Row != 2 {
		t.Fatalf("records = %+v, want only good, on row 2", wb.Records)
	}
}

func TestWriterClosed(t *testing.T) {
	w, err := NewWriter(io.Discard, WriteOptions{Schema: events.SchemaQT})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(record("r1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestNewWriterRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]WriteOptions{
		"schema":             {Schema: "XX"},
		"param is a column":  {Schema: events.SchemaQT, ParamColumns: []string{ColTier}},
		"repeated param":     {Schema: events.SchemaQT, ParamColumns: []string{"a", "a"}},
		"empty category id":  {Schema: events.SchemaQT, Categories: []Category{{Name: "x"}}},
		"repeated category":  {Schema: events.SchemaQT, Categories: []Category{{ID: "a"}, {ID: "a"}}},
		"empty param column": {Schema: events.SchemaQT, ParamColumns: []string{""}},
	} {
		if _, err := NewWriter(io.Discard, opts); err == nil {
			t.Errorf("%s: NewWriter accepted %+v", name, opts)
		}
	}
}

func TestCustomCategories(t *testing.T) {
	cats := []Category{{ID: "storage", Name: "Storage", Description: "Disks"}, {ID: "net", Name: "Network"}}
	r := record("r1")
	r.CategoryID = "net"
	plain := record("r2") // no category: stays empty when categories are given
	wb := readBook(t, writeBook(t, WriteOptions{Schema: events.SchemaQT, Categories: cats}, r, plain), ReadOptions{})
	if len(wb.Categories) != 2 || wb.Categories[0] != cats[0] || wb.Categories[1] != cats[1] {
		t.Errorf("categories = %+v, want %+v", wb.Categories, cats)
	}
	if got := wb.Records[0].CategoryID + "|" + wb.Records[1].CategoryID; got != "net|" {
		t.Errorf("category ids = %q, want net|", got)
	}
}

// TestNoEmptyNumericCell: every record row has a numeric amount, quantity
// and tier cell, whatever the schema leaves out.
func TestNoEmptyNumericCell(t *testing.T) {
	data := writeBook(t, WriteOptions{Schema: events.SchemaQT}, record("r1"), record("r2"))
	d := dump(t, data)
	for _, want := range []string{`E2 num "0.00" fmt 0.00`, `F2 num "12.50" fmt 0.00`, `Q2 num "0"`, `E3 num "0.00"`, `Q3 num "0"`} {
		if !strings.Contains(d, want+"\n") && !strings.Contains(d, want+" ") {
			t.Errorf("workbook lacks %s:\n%s", want, d)
		}
	}
}
