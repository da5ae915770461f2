package usagefile

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

// readRecords reads the records sheet: the first non-empty row is the
// header, every later non-empty row a record.
func (w *Workbook) readRecords(f *excelize.File, opts ReadOptions) error {
	date1904 := false
	props, err := guard(f.GetWorkbookProps)
	if err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	var h *header
	headerRow := 0
	ids := map[string]int{} // record id → first row
	err = eachRow(f, w.Sheet, func(row int, cells []string) {
		if h == nil {
			h, headerRow = newHeader(w.Sheet, row, cells), row
			w.Columns, w.Problems = cells, append(w.Problems, h.problems...)
			return
		}
		rr := rowReader{sheet: w.Sheet, h: h, cells: cells, schema: opts.Schema, date1904: date1904}
		rec := rr.read(row)
		if first, dup := ids[rec.RecordID]; dup && rec.RecordID != "" {
			rec.Problems = append(rec.Problems, rr.problem(row, ColRecordID, rec.RecordID,
				fmt.Errorf("%w (row %d)", ErrDuplicateRecordID, first)))
		} else {
			ids[rec.RecordID] = row
		}
		w.Records = append(w.Records, rec)
	})
	if err == nil && len(w.Records) == 0 {
		w.Problems = append(w.Problems, Problem{Sheet: w.Sheet, Row: headerRow + 1, Err: ErrNoRecords})
	}
	if err == nil && h != nil {
		w.attachComments(f, h)
	}
	return err
}

// readCategories reads the categories sheet, if it has a category_id column.
func (w *Workbook) readCategories(f *excelize.File, sheet string) error {
	var h *header
	return eachRow(f, sheet, func(row int, cells []string) {
		if h == nil {
			h = newHeader(sheet, row, cells)
			h.index = categoryIndex(cells)
			return
		}
		c := Category{
			ID:          h.cell(cells, ColCategoryID),
			Name:        h.cell(cells, ColCategoryName),
			Description: h.cell(cells, ColCategoryDescription),
		}
		if c.ID == "" {
			w.Problems = append(w.Problems, Problem{Sheet: sheet, Row: row, Column: ColCategoryID, Err: ErrMissingValue})
			return
		}
		w.Categories = append(w.Categories, c)
	})
}

// categoryIndex maps the category columns of a categories header row.
func categoryIndex(cells []string) map[string]int {
	index := map[string]int{}
	for i, cell := range cells {
		switch name := normalize(cell); name {
		case ColCategoryID, ColCategoryName, ColCategoryDescription:
			if _, dup := index[name]; !dup {
				index[name] = i
			}
		}
	}
	return index
}
