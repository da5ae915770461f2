package usagefile

import "fmt"

// smallSheets creates the sheets in order and fills all but the records one.
func (rw *rowWriter) smallSheets(plan sheetPlan) error {
	names := []string{plan.records, SheetCategories}
	if plan.processed {
		names = []string{SheetGeneral, SheetCategories, plan.records}
	}
	if err := rw.file.SetSheetName("Sheet1", names[0]); err != nil {
		return err
	}
	for _, n := range names[1:] {
		if _, err := rw.file.NewSheet(n); err != nil {
			return err
		}
	}
	if plan.processed {
		if err := rw.table(SheetGeneral, attributeRows(plan.general)); err != nil {
			return err
		}
	}
	return rw.table(SheetCategories, categoryRows(plan.categories))
}

// table writes rows (the first one a header) into an in-memory sheet.
func (rw *rowWriter) table(sheet string, rows [][]any) error {
	for i, row := range rows {
		if err := rw.file.SetSheetRow(sheet, cellName(i+1), &row); err != nil {
			return fmt.Errorf("sheet %s: %w", sheet, err)
		}
	}
	return nil
}

func categoryRows(cats []Category) [][]any {
	rows := [][]any{{ColCategoryID, ColCategoryName, ColCategoryDescription}}
	for _, c := range cats {
		rows = append(rows, []any{c.ID, c.Name, c.Description})
	}
	return rows
}

func attributeRows(attrs []Attribute) [][]any {
	rows := [][]any{{ColAttributeID, ColAttributeValue}}
	for _, a := range attrs {
		rows = append(rows, []any{a.ID, a.Value})
	}
	return rows
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
