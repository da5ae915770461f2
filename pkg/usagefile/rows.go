package usagefile

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

// sheetPlan says which sheets a workbook has, in order.
type sheetPlan struct {
	general    []Attribute // processed workbooks: the general sheet, first
	processed  bool
	records    string
	categories []Category
	params     []string // param columns, after the record columns
	extra      []string // columns after the params (status, error)
}

func (p sheetPlan) columns() []string {
	return concat(concat(recordColumns, p.params), p.extra)
}

// rowWriter owns the excelize file behind Writer and ProcessedWriter: the
// small sheets are written in memory up front, the records sheet is streamed.
// Only one sheet is streamed because excelize stores streamed sheets in a
// map and would write several in random order, breaking reproducible output.
type rowWriter struct {
	out      io.Writer
	file     *excelize.File
	stream   *excelize.StreamWriter
	styles   decimalStyles
	params   map[string]int // param column → index
	width    int
	vals     []any
	count    int           // records written
	decimals *decimalQueue // texts of the decimal cells, for decimalZip
	start    timeCell      // the last start time written, most rows repeat it
	end      timeCell
	sheet    string    // the streamed records sheet
	columns  []string  // its header
	notes    cellNotes // comments to add once the stream is flushed
	err      error     // sticky: a failed stream or ErrClosed
	released bool      // file closed by abort
}

func newRowWriter(out io.Writer, plan sheetPlan) (*rowWriter, error) {
	f := excelize.NewFile()
	rw := &rowWriter{out: out, file: f, width: len(plan.columns()), params: map[string]int{}, decimals: &decimalQueue{},
		sheet: plan.records, columns: plan.columns()}
	if err := rw.setup(plan); err != nil {
		_ = f.Close()
		return nil, err
	}
	rw.vals = make([]any, rw.width)
	return rw, nil
}

func (rw *rowWriter) setup(plan sheetPlan) error {
	seen := map[string]bool{}
	for i, c := range plan.columns() {
		if seen[c] || c == "" {
			return fmt.Errorf("%w: %q", ErrDuplicateColumn, c)
		}
		seen[c] = true
		if i >= len(recordColumns) && i < len(recordColumns)+len(plan.params) {
			rw.params[c] = i
		}
	}
	if err := rw.file.SetDocProps(&excelize.DocProperties{Creator: "usagepipe"}); err != nil {
		return err
	}
	if err := rw.smallSheets(plan); err != nil {
		return err
	}
	var err error
	if rw.styles, err = newDecimalStyles(rw.file); err != nil {
		return err
	}
	if rw.stream, err = rw.file.NewStreamWriter(plan.records); err != nil {
		return err
	}
	return rw.stream.SetRow("A1", anySlice(plan.columns()))
}

func (rw *rowWriter) isParam(name string) bool {
	_, ok := rw.params[name]
	return ok
}

// add streams one record row; extra holds the values of columns after the
// record ones (status and error of a processed workbook).
func (rw *rowWriter) add(r *Record, extra []string) error {
	if rw.err != nil {
		return rw.err
	}
	rw.fill(r)
	for name, v := range r.Params {
		rw.vals[rw.params[name]] = text(v)
	}
	for i, v := range extra {
		rw.vals[rw.width-len(extra)+i] = text(v)
	}
	if err := rw.stream.SetRow(cellName(rw.count+2), rw.vals); err != nil {
		rw.err = err
		return err
	}
	rw.count++
	return nil
}

// note comments the cell of column c.Column in the row last added (record_id when the sheet has no such
// column).
func (rw *rowWriter) note(c CellError) {
	col := max(slices.Index(rw.columns, c.Column), 0)
	cell, _ := excelize.CoordinatesToCellName(col+1, rw.count+1)
	rw.notes.add(cell, c.Text)
}

// fill sets vals to the record columns of r, in recordColumns order.
func (rw *rowWriter) fill(r *Record) {
	amount := zero
	if r.Amount != nil {
		amount = *r.Amount
	}
	v := rw.vals
	clear(v)
	v[0], v[1], v[2], v[3] = text(r.RecordID), text(r.RecordNote), text(r.ItemSearchCriteria), text(r.ItemSearchValue)
	v[4], v[5] = rw.decimal(amount, r.Precision), rw.decimal(r.Quantity, r.Precision)
	v[6], v[7] = rw.start.text(r.StartTimeUTC), rw.end.text(r.EndTimeUTC)
	v[8], v[9] = text(r.AssetSearchCriteria), text(r.AssetSearchValue)
	v[10], v[11], v[12], v[13] = text(r.ItemName), text(r.ItemMPN), text(r.ItemUnit), text(r.ItemPrecision)
	v[14], v[15], v[16] = text(r.CategoryID), text(r.AssetReconID), int64(r.Tier)
}

var zero events.Decimal

// decimal is a numeric cell for d with the decimals of the smallest
// precision from `from` up that holds it, styled to show them. The cell is
// streamed as 0 and decimalZip puts the text of d in its place.
func (rw *rowWriter) decimal(d events.Decimal, from events.Precision) any {
	p := placesFor(d, from)
	rw.decimals.push(d.StringFixed(int(p)))
	return rw.styles.cells[p]
}

// text is a text cell, or no cell at all for "".
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// close flushes the stream and writes the workbook to out. The file is
// released whatever happens; later calls return ErrClosed.
func (rw *rowWriter) close() (err error) {
	if rw.err != nil {
		rw.abort()
		return rw.err
	}
	rw.err = ErrClosed
	defer func() {
		rw.released = true
		if cerr := rw.file.Close(); err == nil {
			err = cerr
		}
	}()
	if err := rw.stream.Flush(); err != nil {
		return err
	}
	if err := rw.notes.write(rw.file, rw.sheet); err != nil {
		return err
	}
	rw.file.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		return newDecimalZip(w, rw.styles.ids, rw.decimals)
	})
	if err := rw.file.Write(rw.out); err != nil {
		return err
	}
	if q := rw.decimals; !q.done() {
		return fmt.Errorf("found %d of %d decimal cells: excelize's cell encoding changed", q.next, len(q.ends))
	}
	return nil
}

// abort releases the file (and its temporary files) without writing it.
func (rw *rowWriter) abort() {
	if !rw.released {
		rw.released = true
		_ = rw.file.Close()
	}
	if rw.err == nil {
		rw.err = ErrClosed
	}
}

// timeCell formats times as Connect wants them, in UTC, remembering the
// last one: the records of a file mostly share their period.
type timeCell struct {
	t    time.Time
	cell any
}

// text is the cell for t; no cell for the zero time.
func (c *timeCell) text(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if c.cell == nil || !t.Equal(c.t) {
		c.t, c.cell = t, t.UTC().Format(TimeLayout)
	}
	return c.cell
}
