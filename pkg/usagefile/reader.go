package usagefile

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

// DefaultMaxSize bounds the unzipped size of a workbook Read accepts.
const DefaultMaxSize = 256 << 20

// ReadOptions configure Read. The zero value reads any schema.
type ReadOptions struct {
	// Schema, when set, also requires an amount (CR, PR) or a tier of at
	// least 1 (TR) in every row.
	Schema events.Schema
	// MaxSize bounds the unzipped size of the workbook; DefaultMaxSize when 0.
	MaxSize int64
}

// Workbook is what Read found in a usage workbook.
type Workbook struct {
	Sheet      string   // name of the records sheet
	Columns    []string // its header row, as written
	Records    []ReadRecord
	Categories []Category
	// Problems not tied to one record: duplicate header columns, no record
	// at all (ErrNoRecords), rows of the categories sheet. A record's
	// problems are in its ReadRecord.
	Problems []Problem
}

// ReadRecord is one row of the records sheet. Fields that could not be read
// are left zero and each reason is in Problems. Numbers are exactly what the
// cell holds ("0.30000000000000004" from a spreadsheet stays so); Precision
// is the one item_precision names, else the smallest that holds the
// quantity. Amount is nil when its cell is empty.
type ReadRecord struct {
	Row int // 1-based worksheet row
	Record
	// Status and Error are the status and error columns of a processed
	// workbook; empty in an upload. Without an error column (or with it
	// empty), Error joins the row's cell comments, where Connect explains
	// invalid data: "column: text; …", in column order.
	Status, Error string
	// Cells are the row's cell comments, one per commented cell.
	Cells    []CellError
	Problems []Problem
}

// Valid reports whether the record was read without problems.
func (r *ReadRecord) Valid() bool { return len(r.Problems) == 0 }

// Err joins every problem of the workbook and its records, nil when none.
func (w *Workbook) Err() error {
	errs := make([]error, 0, len(w.Problems))
	for _, p := range w.Problems {
		errs = append(errs, p)
	}
	for i := range w.Records {
		for _, p := range w.Records[i].Problems {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// Read parses a usage workbook. It fails only when r is not an xlsx
// (ErrNotWorkbook) or has no records sheet (ErrNoRecordsSheet); every
// problem with a row is reported in the result instead.
func Read(r io.Reader, opts ReadOptions) (*Workbook, error) {
	f, err := guard(func() (*excelize.File, error) { return open(r, opts) })
	if err != nil {
		return nil, fmt.Errorf("usagefile: read: %w: %w", ErrNotWorkbook, err)
	}
	defer func() { _, _ = guard(func() (struct{}, error) { return struct{}{}, f.Close() }) }()
	sheets, err := guard(func() ([]string, error) { return f.GetSheetList(), nil })
	if err != nil {
		return nil, fmt.Errorf("usagefile: read: %w: %w", ErrNotWorkbook, err)
	}
	records := findSheet(sheets, SheetRecords, SheetRecordsLegacy)
	if records == "" {
		return nil, fmt.Errorf("usagefile: read: %w (sheets %q)", ErrNoRecordsSheet, sheets)
	}
	wb := &Workbook{Sheet: records}
	if err := wb.readRecords(f, opts); err != nil {
		return nil, fmt.Errorf("usagefile: read sheet %s: %w: %w", records, ErrNotWorkbook, err)
	}
	if cats := findSheet(sheets, SheetCategories); cats != "" {
		if err := wb.readCategories(f, cats); err != nil {
			return nil, fmt.Errorf("usagefile: read sheet %s: %w: %w", cats, ErrNotWorkbook, err)
		}
	}
	return wb, nil
}

// guard runs one excelize call and turns a panic into an error. excelize
// indexes into package parts it has not fully validated and has panicked on
// malformed files before (qax-os/excelize#188, index out of range reading
// cells); FuzzRead has found no such input for v2.11.1, but an upload must
// never bring the emulator down. Only excelize calls are guarded, so
// FuzzRead still catches panics of this package's own code.
func guard[T any](call func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("excelize panicked: %v", p)
		}
	}()
	return call()
}

func open(r io.Reader, opts ReadOptions) (*excelize.File, error) {
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	return excelize.OpenReader(r, excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    limit,
		UnzipXMLSizeLimit: min(limit, excelize.StreamChunkSize),
	})
}

// findSheet returns the first sheet named like one of names (in that order
// of preference), ignoring case and surrounding spaces.
func findSheet(sheets []string, names ...string) string {
	for _, want := range names {
		for _, s := range sheets {
			if strings.EqualFold(strings.TrimSpace(s), want) {
				return s
			}
		}
	}
	return ""
}

// eachRow calls fn with every non-empty row of sheet and its 1-based number.
func eachRow(f *excelize.File, sheet string, fn func(row int, cells []string)) error {
	rows, err := guard(func() (*excelize.Rows, error) { return f.Rows(sheet) })
	if err != nil {
		return err
	}
	defer func() { _, _ = guard(func() (struct{}, error) { return struct{}{}, rows.Close() }) }()
	for n := 1; ; n++ {
		cells, err := guard(func() ([]string, error) {
			if !rows.Next() {
				return nil, io.EOF
			}
			return rows.Columns()
		})
		if errors.Is(err, io.EOF) {
			return rowsError(rows)
		}
		if err != nil {
			return err
		}
		if !blank(cells) {
			fn(n, cells)
		}
	}
}

func rowsError(rows *excelize.Rows) error {
	_, err := guard(func() (struct{}, error) { return struct{}{}, rows.Error() })
	return err
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
