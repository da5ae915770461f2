package usagefile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Connect explains invalid data in a processed workbook with cell comments ("Data that fails validation
// will be outlined in red in your file and an explanation will appear in the cell comment"). The
// processed writer adds one comment per CellError, and Read turns the comments of a records row into the
// row's Cells, and into its Error when the workbook has no error column.

// CellError is the explanation of one invalid cell of a processed record.
type CellError struct {
	Column string // a records column; "" (or a column the sheet lacks) means the record_id cell
	Text   string
}

// commentAuthor is the author of the comments the processed writer adds.
const commentAuthor = "Connect"

// maxCommentText is excelize's bound on a comment's text.
const maxCommentText = 32512

// MaxComments bounds the cells the processed writer comments: excelize checks every existing comment when
// it adds one, so n comments cost n² (20 000 take about 20 s). Explanations beyond it are only in the
// error column.
const MaxComments = 1000

// cellNotes collects the comments of a streamed sheet, which excelize adds only after the stream is
// flushed; several explanations of one cell share its comment.
type cellNotes struct {
	order []string
	text  map[string]string
}

func (n *cellNotes) add(cell, text string) {
	if n.text == nil {
		n.text = map[string]string{}
	}
	if old, ok := n.text[cell]; ok {
		n.text[cell] = old + "; " + text
		return
	}
	if len(n.order) < MaxComments {
		n.order, n.text[cell] = append(n.order, cell), text
	}
}

// write adds the comments to sheet of f.
func (n *cellNotes) write(f *excelize.File, sheet string) error {
	for _, cell := range n.order {
		text := n.text[cell]
		if len(text) > maxCommentText {
			text = text[:maxCommentText]
		}
		if err := f.AddComment(sheet, excelize.Comment{Author: commentAuthor, Cell: cell, Text: text}); err != nil {
			return fmt.Errorf("comment %s: %w", cell, err)
		}
	}
	return nil
}

// rowNote is one comment of a records row, at a 0-based column.
type rowNote struct {
	col  int
	cell CellError
}

// attachComments reads the comments of the records sheet into the Cells of the records they are on and,
// where the error column is empty, into Error ("column: text; …", in column order). Comments that cannot
// be read are a workbook problem, not a failure of the read.
func (w *Workbook) attachComments(f *excelize.File, h *header) {
	comments, err := guard(func() ([]excelize.Comment, error) { return f.GetComments(w.Sheet) })
	if err != nil {
		w.Problems = append(w.Problems, Problem{Sheet: w.Sheet, Err: fmt.Errorf("cell comments: %w", err)})
		return
	}
	byRow := map[int][]rowNote{}
	for _, c := range comments {
		col, row, err := excelize.CellNameToCoordinates(c.Cell)
		if text := commentText(c); err == nil && text != "" {
			byRow[row] = append(byRow[row], rowNote{col - 1, CellError{Column: h.nameAt(col - 1), Text: text}})
		}
	}
	for i := range w.Records {
		if notes := byRow[w.Records[i].Row]; len(notes) > 0 {
			w.Records[i].attach(notes)
		}
	}
}

func (r *ReadRecord) attach(notes []rowNote) {
	slices.SortStableFunc(notes, func(a, b rowNote) int { return cmp.Compare(a.col, b.col) })
	texts := make([]string, len(notes))
	for i, n := range notes {
		r.Cells = append(r.Cells, n.cell)
		texts[i] = n.cell.Text
		if n.cell.Column != "" {
			texts[i] = n.cell.Column + ": " + n.cell.Text
		}
	}
	if r.Error == "" {
		r.Error = strings.Join(texts, "; ")
	}
}

// commentText is the whole text of a comment, its rich-text runs included, without the "Author:" line
// spreadsheet programs start a comment with.
func commentText(c excelize.Comment) string {
	var b strings.Builder
	b.WriteString(c.Text)
	for _, run := range c.Paragraph {
		b.WriteString(run.Text)
	}
	text := strings.TrimSpace(b.String())
	if c.Author != "" {
		text = strings.TrimSpace(strings.TrimPrefix(text, c.Author+":"))
	}
	return text
}
