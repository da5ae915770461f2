package usagefile

import (
	"fmt"
	"strings"
)

// header maps a records sheet's column names to cell indexes.
type header struct {
	index    map[string]int // known column (legacy names mapped) → index
	params   []param        // columns this package does not know, in sheet order
	problems []Problem
}

type param struct {
	name  string
	index int
}

// knownColumns are the columns read into Record fields rather than Params.
var knownColumns = func() map[string]bool {
	m := map[string]bool{ColStatus: true, ColError: true}
	for _, c := range recordColumns {
		m[c] = true
	}
	return m
}()

// newHeader reads the header row found at row of sheet. Names match
// case-insensitively and ignoring surrounding spaces; usage_record_id is
// record_id.
func newHeader(sheet string, row int, cells []string) *header {
	h := &header{index: map[string]int{}}
	for i, cell := range cells {
		name := normalize(cell)
		if name == ColRecordIDLegacy {
			name = ColRecordID
		}
		switch {
		case name == "":
		case !knownColumns[name]:
			h.params = append(h.params, param{name: strings.TrimSpace(cell), index: i})
		case h.has(name):
			h.problems = append(h.problems, Problem{Sheet: sheet, Row: row, Column: name,
				Value: cell, Err: fmt.Errorf("%w (also column %d)", ErrDuplicateColumn, h.index[name]+1)})
		default:
			h.index[name] = i
		}
	}
	return h
}

func (h *header) has(column string) bool {
	_, ok := h.index[column]
	return ok
}

// cell returns the trimmed text of column in cells, "" when the column or
// the cell is absent.
func (h *header) cell(cells []string, column string) string {
	i, ok := h.index[column]
	if !ok || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// nameAt returns the name of the column at a 0-based index: a known column, a param, or "".
func (h *header) nameAt(i int) string {
	for name, at := range h.index {
		if at == i {
			return name
		}
	}
	for _, p := range h.params {
		if p.index == i {
			return p.name
		}
	}
	return ""
}

// normalize is a header cell as a column name.
func normalize(cell string) string { return strings.ToLower(strings.TrimSpace(cell)) }
