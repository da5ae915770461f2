package usagefile

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Problems found while reading wrap one of
// the Err* row sentinels and can be matched with errors.Is.
var (
	// ErrNotWorkbook is returned by Read when the input is not a readable xlsx.
	ErrNotWorkbook = errors.New("not an xlsx workbook")
	// ErrNoRecordsSheet is returned by Read when neither `records` nor
	// `usage_records` exists.
	ErrNoRecordsSheet = errors.New("no records sheet")
	// ErrInvalidRecord is returned by Writer.Add for a record Connect would
	// reject (bad criteria, missing value, amount for the schema, precision).
	ErrInvalidRecord = errors.New("invalid usage record")
	// ErrClosed is returned by Writer.Add and Writer.Close after Close.
	ErrClosed = errors.New("usage workbook writer closed")

	// ErrMissingColumn: a required column is absent from the header.
	ErrMissingColumn = errors.New("missing column")
	// ErrDuplicateColumn: two header cells name the same column.
	ErrDuplicateColumn = errors.New("duplicate column")
	// ErrMissingValue: a required cell is empty.
	ErrMissingValue = errors.New("missing value")
	// ErrBadNumber: a quantity, amount or tier that is not a number.
	ErrBadNumber = errors.New("bad number")
	// ErrBadTime: a time not in `YYYY-MM-DD hh:mm:ss`, or an end before its start.
	ErrBadTime = errors.New("bad time")
	// ErrBadCriteria: an item or asset search criteria Connect does not know.
	ErrBadCriteria = errors.New("bad search criteria")
	// ErrBadPrecision: an item_precision Connect does not know.
	ErrBadPrecision = errors.New("bad item precision")
	// ErrNoRecords: the records sheet has no header row or no record row.
	ErrNoRecords = errors.New("no records")
	// ErrDuplicateRecordID: a record id already used by an earlier row.
	ErrDuplicateRecordID = errors.New("duplicate record id")
)

// Problem is one thing wrong with a cell, a row or a header of a workbook
// being read. It is an error wrapping one of the sentinels above.
type Problem struct {
	Sheet  string // sheet name as found in the workbook
	Row    int    // 1-based worksheet row
	Column string // column name; empty when the problem is not about one column
	Value  string // offending cell text, when there is one
	Err    error  // ErrMissingValue, ErrBadNumber, …
}

func (p Problem) Error() string {
	where := fmt.Sprintf("%s row %d", p.Sheet, p.Row)
	if p.Column != "" {
		where += " column " + p.Column
	}
	if p.Value != "" {
		return fmt.Sprintf("%s: %v %q", where, p.Err, p.Value)
	}
	return fmt.Sprintf("%s: %v", where, p.Err)
}

func (p Problem) Unwrap() error { return p.Err }
