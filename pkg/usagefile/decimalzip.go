package usagefile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"io/fs"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Why this file exists: excelize v2.11.1's StreamWriter can only write a
// numeric cell from a Go int or float (a float64 is also cut to 15
// significant digits); a string always becomes a text cell. The raw-number
// setter (File.SetCellDefault) exists only in excelize's in-memory mode,
// which is far too slow for 100k rows and cannot be mixed with streaming on
// one sheet.
//
// So the Writer streams each decimal as the numeric cell `0` styled with one
// of its decimal number formats, and queues the decimal's exact text.
// decimalZip, installed with File.SetZipWriter, puts the queued texts back,
// in order, while the worksheet is copied into the zip:
//
//	<c r="F2" s="3"><v>0</v></c>  →  <c r="F2" s="3"><v>4.0000</v></c>
//
// Cells are recognised by their style id, which only decimal cells use.
// Close fails unless every queued decimal was put back, so a change in
// excelize's cell encoding is an error, never a workbook of zeros.

// decimalQueue holds the texts of the decimal cells, in the order written.
type decimalQueue struct {
	text []byte // every text, back to back
	ends []int  // ends[i] is where text i ends
	next int    // texts already put back
}

func (q *decimalQueue) push(s string) {
	q.text = append(q.text, s...)
	q.ends = append(q.ends, len(q.text))
}

// pop returns the next text, false when none is left.
func (q *decimalQueue) pop() ([]byte, bool) {
	if q.next >= len(q.ends) {
		return nil, false
	}
	start := 0
	if q.next > 0 {
		start = q.ends[q.next-1]
	}
	q.next++
	return q.text[start:q.ends[q.next-1]], true
}

func (q *decimalQueue) done() bool { return q.next == len(q.ends) }

// decimalZip is an excelize.ZipWriter over archive/zip that puts decimal
// texts into the decimal cells of worksheets.
type decimalZip struct {
	zw     *zip.Writer
	styles map[int]bool // style ids of decimal cells
	queue  *decimalQueue
	cur    *cellRewriter
	err    error
}

func newDecimalZip(w io.Writer, styles map[int]bool, queue *decimalQueue) *decimalZip {
	zw := zip.NewWriter(w)
	// Fast compression: the workbook is repetitive XML, so speed costs
	// little size, and 100k records must be written within a second.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return &decimalZip{zw: zw, styles: styles, queue: queue}
}

func (z *decimalZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	w, err := z.zw.Create(name)
	if err != nil || !strings.HasPrefix(name, "xl/worksheets/") {
		return w, err
	}
	z.cur = &cellRewriter{w: w, styles: z.styles, queue: z.queue}
	return z.cur, nil
}

func (z *decimalZip) AddFS(fsys fs.FS) error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

func (z *decimalZip) Close() error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.Close()
}

// finish flushes the worksheet being rewritten, if any.
func (z *decimalZip) finish() error {
	if z.cur != nil {
		if err := z.cur.flush(); err != nil && z.err == nil {
			z.err = err
		}
		z.cur = nil
	}
	return z.err
}

var (
	placeholder = []byte(`"><v>0</v></c>`) // end of a decimal cell as streamed
	cellStart   = []byte(`<c `)
	styleAttr   = []byte(` s="`)
)

// styleTail bounds the ` s="<id>"` that ends a decimal cell's opening tag.
const styleTail = 16

// errQueueEmpty: more decimal cells than queued texts.
var errQueueEmpty = errors.New("more decimal cells than decimals written")

// tailKeep is how many bytes are held back when no cell start is in sight:
// enough to hold a split `<c `.
const tailKeep = 8

// cellRewriter rewrites one worksheet's decimal cells as it is written. It
// holds back the bytes from the last cell start on, since a cell may be split
// across writes.
type cellRewriter struct {
	w       io.Writer
	styles  map[int]bool
	queue   *decimalQueue
	pending []byte // input held back
	out     []byte // output buffer, reused
}

func (c *cellRewriter) Write(p []byte) (int, error) {
	c.pending = append(c.pending, p...)
	done, err := c.rewrite(false)
	c.pending = c.pending[:copy(c.pending, c.pending[done:])]
	return len(p), err
}

func (c *cellRewriter) flush() error {
	_, err := c.rewrite(true)
	c.pending = c.pending[:0]
	return err
}

// rewrite writes out the pending bytes that hold no incomplete cell (all of
// them when final), in one write, and returns how many it consumed.
func (c *cellRewriter) rewrite(final bool) (int, error) {
	b, pos, out := c.pending, 0, c.out[:0]
	for {
		i := bytes.Index(b[pos:], placeholder)
		if i < 0 {
			break
		}
		i += pos
		end := i + len(placeholder)
		if !c.decimalStyle(b[pos : i+1]) {
			out = append(out, b[pos:end]...)
			pos = end
			continue
		}
		text, ok := c.queue.pop()
		if !ok {
			return pos, errQueueEmpty
		}
		out = append(out, b[pos:i]...)
		out = append(append(append(out, `"><v>`...), text...), `</v></c>`...)
		pos = end
	}
	keep := c.keepFrom(b, pos, final)
	out = append(out, b[pos:keep]...)
	c.out = out
	_, err := c.w.Write(out)
	return keep, err
}

// keepFrom returns where the bytes to hold back start.
func (c *cellRewriter) keepFrom(b []byte, pos int, final bool) int {
	if final {
		return len(b)
	}
	if k := bytes.LastIndex(b[pos:], cellStart); k >= 0 {
		return pos + k
	}
	return max(pos, len(b)-tailKeep)
}

// decimalStyle reports whether head, a cell's opening tag up to its closing
// quote, ends with ` s="<id>"` for a decimal style id. Only the tail is
// searched: an id has at most a few digits.
func (c *cellRewriter) decimalStyle(head []byte) bool {
	head = head[max(0, len(head)-styleTail):]
	k := bytes.LastIndex(head, styleAttr)
	if k < 0 {
		return false
	}
	digits := head[k+len(styleAttr) : len(head)-1]
	id := 0
	for _, d := range digits {
		if d < '0' || d > '9' || id > 1<<20 {
			return false
		}
		id = id*10 + int(d-'0')
	}
	return len(digits) > 0 && c.styles[id]
}

var _ excelize.ZipWriter = (*decimalZip)(nil)
