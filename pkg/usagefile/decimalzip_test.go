package usagefile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestCellRewriterAnySplit feeds a worksheet in chunks of every size: a cell
// split anywhere must still get its decimal, and nothing else be touched.
func TestCellRewriterAnySplit(t *testing.T) {
	in := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>quantity</t></is></c>` +
		`<c r="B1" s="3"><v>0</v></c><c r="C1" s="12"><v>0</v></c><c r="D1"><v>0</v></c>` +
		`<c r="E1" s="31"><v>0</v></c><c r="F1" s="3" t="s"><v>0</v></c><c r="G1" s="3"><v>1</v></c></row></sheetData>`
	want := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>quantity</t></is></c>` +
		`<c r="B1" s="3"><v>4.0000</v></c><c r="C1" s="12"><v>0</v></c><c r="D1"><v>0</v></c>` +
		`<c r="E1" s="31"><v>-0.5</v></c><c r="F1" s="3" t="s"><v>0</v></c><c r="G1" s="3"><v>1</v></c></row></sheetData>`
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		q := &decimalQueue{}
		q.push("4.0000")
		q.push("-0.5")
		c := &cellRewriter{w: &out, styles: map[int]bool{3: true, 31: true}, queue: q}
		for rest := in; rest != ""; {
			n := min(size, len(rest))
			if _, err := c.Write([]byte(rest[:n])); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := c.flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want || !q.done() {
			t.Fatalf("chunks of %d: queue done %v\n got %s\nwant %s", size, q.done(), out.String(), want)
		}
	}
}

func TestCellRewriterMoreCellsThanDecimals(t *testing.T) {
	c := &cellRewriter{w: &bytes.Buffer{}, styles: map[int]bool{3: true}, queue: &decimalQueue{}}
	_, _ = c.Write([]byte(`<c r="B1" s="3"><v>0</v></c>`))
	if err := c.flush(); !errors.Is(err, errQueueEmpty) {
		t.Errorf("flush = %v, want errQueueEmpty", err)
	}
}

func TestCellRewriterHoldsLittle(t *testing.T) {
	c := &cellRewriter{w: &bytes.Buffer{}, styles: map[int]bool{3: true}, queue: &decimalQueue{}}
	_, _ = c.Write([]byte(strings.Repeat("<x/>", 10000)))
	if len(c.pending) > tailKeep {
		t.Errorf("holds %d bytes without a cell in sight", len(c.pending))
	}
}
