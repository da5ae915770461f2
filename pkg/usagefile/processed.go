package usagefile

import (
	"fmt"
	"io"
	"iter"
)

// Attribute is one row of a processed workbook's general sheet. Connect
// writes report_name, report_note, report_id, status,
// report_start_time_utc, report_end_time_utc, valid_records,
// invalid_records, usage_schema, currency, product_id, product_name,
// marketplace_id, marketplace_name, vendor_account_id, vendor_account_name,
// provider_account_id, provider_account_name, distribution_contract_id and
// distribution_contract_name, in that order.
type Attribute struct{ ID, Value string }

// Record statuses in a processed workbook.
const (
	StatusValid   = "valid"
	StatusInvalid = "invalid"
)

// ProcessedRecord is a record as Connect reports it back after processing.
type ProcessedRecord struct {
	Record
	Status string      // StatusValid or StatusInvalid
	Error  string      // why the record is invalid (the error column); empty when valid
	Cells  []CellError // the explanations per cell, written as comments on those cells
}

// ProcessedOptions configure a processed workbook.
type ProcessedOptions struct {
	General      []Attribute
	Categories   []Category // DefaultCategory when empty
	ParamColumns []string
}

// ProcessedWriter streams a processed workbook: sheets general, categories
// and records, the last with the record columns followed by status and
// error, and a comment on each cell a record's Cells explain (as Connect
// explains invalid data; the first MaxComments cells). Records are written as given, invalid ones
// included: nothing is validated except that numbers stay numbers: a
// quantity that does not fit the record's precision is written with the
// next precision that holds it. Not safe for concurrent use.
type ProcessedWriter struct{ rows *rowWriter }

// NewProcessedWriter starts a processed workbook that Close writes to out.
func NewProcessedWriter(out io.Writer, opts ProcessedOptions) (*ProcessedWriter, error) {
	if len(opts.Categories) == 0 {
		opts.Categories = []Category{DefaultCategory}
	}
	rw, err := newRowWriter(out, sheetPlan{
		general: opts.General, processed: true, records: SheetRecords, categories: opts.Categories,
		params: opts.ParamColumns, extra: []string{ColStatus, ColError},
	})
	if err != nil {
		return nil, fmt.Errorf("usagefile: new processed writer: %w", err)
	}
	return &ProcessedWriter{rows: rw}, nil
}

// Add appends r to the records sheet.
func (w *ProcessedWriter) Add(r ProcessedRecord) error {
	for name := range r.Params {
		if !w.rows.isParam(name) {
			return fmt.Errorf("usagefile: add processed record %q: param %q: %w", r.RecordID, name, ErrInvalidRecord)
		}
	}
	if err := w.rows.add(&r.Record, []string{r.Status, r.Error}); err != nil {
		return fmt.Errorf("usagefile: add processed record %q: %w", r.RecordID, err)
	}
	for _, c := range r.Cells {
		w.rows.note(c)
	}
	return nil
}

// Close finishes the workbook and writes it out.
func (w *ProcessedWriter) Close() error {
	if err := w.rows.close(); err != nil {
		return fmt.Errorf("usagefile: close processed: %w", err)
	}
	return nil
}

// WriteProcessed writes a processed workbook with every record of records.
func WriteProcessed(out io.Writer, opts ProcessedOptions, records iter.Seq[ProcessedRecord]) error {
	w, err := NewProcessedWriter(out, opts)
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
