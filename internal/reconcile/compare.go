package reconcile

import (
	"fmt"
	"io"
	"slices"
)

// Kinds of difference.
const (
	Lost    = "lost"    // Connect holds less than expected, or nothing
	Doubled = "doubled" // Connect holds more than expected, or a key nothing expected
)

// Difference is a key whose expected and reported totals differ.
type Difference struct {
	Key  Key
	Want Value // expected; zero when nothing was expected
	Have Value // reported; zero when nothing was reported
}

// Kind is Lost or Doubled: the sign of Have − Want, by quantity and then by amount.
func (d Difference) Kind() string {
	c := d.Have.Quantity.Cmp(d.Want.Quantity)
	if c == 0 {
		c = d.Have.Amount.Cmp(d.Want.Amount)
	}
	if c < 0 {
		return Lost
	}
	return Doubled
}

// String describes the difference on one line.
func (d Difference) String() string {
	return fmt.Sprintf("%-7s %s: want %s (%d), have %s (%d)", d.Kind(), d.Key, d.Want, d.Want.Records, d.Have, d.Have.Records)
}

// Compare returns every key whose totals differ between want and have, in key order. A key missing on one
// side counts as zero there, so a zero total expected and nothing reported is no difference.
func Compare(want, have Totals) []Difference {
	var diffs []Difference
	for k, w := range want {
		if h := have[k]; !w.Equal(h) {
			diffs = append(diffs, Difference{Key: k, Want: w, Have: h})
		}
	}
	for k, h := range have {
		if _, ok := want[k]; !ok && !h.Equal(Value{}) {
			diffs = append(diffs, Difference{Key: k, Have: h})
		}
	}
	slices.SortFunc(diffs, func(a, b Difference) int { return a.Key.Compare(b.Key) })
	return diffs
}

// Count returns how many differences are lost and how many doubled.
func Count(diffs []Difference) (lost, doubled int) {
	for _, d := range diffs {
		if d.Kind() == Lost {
			lost++
		} else {
			doubled++
		}
	}
	return lost, doubled
}

// WriteDifferences writes one line per difference, at most limit of them (all when limit ≤ 0), and a line
// saying how many were left out.
func WriteDifferences(w io.Writer, diffs []Difference, limit int) {
	for i, d := range diffs {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "  … and %d more\n", len(diffs)-limit)
			return
		}
		fmt.Fprintln(w, " ", d)
	}
}
