package usagefile

import (
	"fmt"
	"io"
	"iter"
	"strconv"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// WriteOptions configure a usage workbook.
//
// Every schema gets the same columns in the same order (recordColumns, then
// ParamColumns), as Connect's SDKs write them, and no numeric cell is left
// empty (Connect answers an upload with one by 400): an absent amount is
// written 0, and tier is 0 outside TR. What each schema requires follows
// events.Schema: CR and PR an amount, TR a tier of at least 1; QT neither.
type WriteOptions struct {
	Schema events.Schema
	// Categories of the categories sheet; DefaultCategory when empty. A
	// record's category id must name one of them.
	Categories []Category
	// ParamColumns are extra record columns (custom fields), written after
	// tier in this order. A record may only set Params among them.
	ParamColumns []string
}

// Writer streams records into a usage workbook. The workbook is assembled
// in memory (spilling to temporary files when large) and written to the
// destination by Close. A Writer is not safe for concurrent use.
type Writer struct {
	rows *rowWriter
	opts WriteOptions
	cats map[string]bool
}

// NewWriter starts a usage workbook that Close writes to out.
func NewWriter(out io.Writer, opts WriteOptions) (*Writer, error) {
	if err := checkSchema(opts.Schema); err != nil {
		return nil, fmt.Errorf("usagefile: new writer: %w", err)
	}
	if len(opts.Categories) == 0 {
		opts.Categories = []Category{DefaultCategory}
	}
	cats, err := categorySet(opts.Categories)
	if err != nil {
		return nil, fmt.Errorf("usagefile: new writer: %w", err)
	}
	rw, err := newRowWriter(out, sheetPlan{
		records: SheetRecords, categories: opts.Categories, params: opts.ParamColumns,
	})
	if err != nil {
		return nil, fmt.Errorf("usagefile: new writer: %w", err)
	}
	return &Writer{rows: rw, opts: opts, cats: cats}, nil
}

// categorySet returns the ids of cats, which must be present and unique.
func categorySet(cats []Category) (map[string]bool, error) {
	set := map[string]bool{}
	for _, c := range cats {
		if c.ID == "" || set[c.ID] {
			return nil, fmt.Errorf("category id %q: empty or repeated", c.ID)
		}
		set[c.ID] = true
	}
	return set, nil
}

// Add validates r and appends it to the records sheet. An ErrInvalidRecord
// leaves the workbook as it was; any other error is final.
func (w *Writer) Add(r Record) error {
	if r.CategoryID == "" && len(w.opts.Categories) == 1 && w.opts.Categories[0] == DefaultCategory {
		r.CategoryID = DefaultCategory.ID
	}
	if err := w.check(&r); err != nil {
		return fmt.Errorf("usagefile: add record %d (%q): %w", w.rows.count+1, r.RecordID, err)
	}
	if err := w.rows.add(&r, nil); err != nil {
		return fmt.Errorf("usagefile: add record %d (%q): %w", w.rows.count+1, r.RecordID, err)
	}
	return nil
}

func (w *Writer) check(r *Record) error {
	if err := r.checkIdentity(); err != nil {
		return err
	}
	if err := r.checkPeriod(); err != nil {
		return err
	}
	if err := r.checkNumbers(w.opts.Schema); err != nil {
		return err
	}
	if r.CategoryID != "" && !w.cats[r.CategoryID] {
		return fieldError(ColCategoryID, "%q is not in the categories sheet", r.CategoryID)
	}
	for name := range r.Params {
		if !w.rows.isParam(name) {
			return fieldError(name, "not one of the param columns")
		}
	}
	return nil
}

// Close finishes the workbook and writes it out. It must be called once;
// later calls return ErrClosed.
func (w *Writer) Close() error {
	if err := w.rows.close(); err != nil {
		return fmt.Errorf("usagefile: close: %w", err)
	}
	return nil
}

// Write writes a usage workbook with every record of records to out.
func Write(out io.Writer, opts WriteOptions, records iter.Seq[Record]) error {
	w, err := NewWriter(out, opts)
	if err != nil {
		return err
	}
	for r := range records {
		if err := w.Add(r); err != nil {
			w.rows.abort()
			return err
		}
	}
	return w.Close()
}

func concat(a, b []string) []string {
	return append(append(make([]string, 0, len(a)+len(b)), a...), b...)
}

// cellName is "A<row>", where every row starts.
func cellName(row int) string { return "A" + strconv.Itoa(row) }
