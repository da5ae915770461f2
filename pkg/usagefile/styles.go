package usagefile

import (
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

// decimalStyles holds one cell style per allowed precision, whose number
// format shows that many decimals ("0", "0.0", "0.00", "0.0000", "0.00000000").
type decimalStyles struct {
	byPlaces map[events.Precision]int // precision → style id
	cells    map[events.Precision]any // precision → the placeholder cell streamed
	ids      map[int]bool             // every id above, for decimalZip
}

// newDecimalStyles registers the styles in a fixed order so that style ids,
// and with them the output bytes, do not depend on the records.
func newDecimalStyles(f *excelize.File) (decimalStyles, error) {
	s := decimalStyles{byPlaces: map[events.Precision]int{}, cells: map[events.Precision]any{}, ids: map[int]bool{}}
	for _, places := range precisions {
		format := "0"
		if places > 0 {
			format += "." + strings.Repeat("0", int(places))
		}
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		if err != nil {
			return s, fmt.Errorf("number format %s: %w", format, err)
		}
		s.byPlaces[places], s.ids[id] = id, true
		s.cells[places] = excelize.Cell{StyleID: id, Value: 0}
	}
	if len(s.ids) != len(s.byPlaces) || s.ids[0] {
		return s, fmt.Errorf("number formats share a style: %v", s.byPlaces)
	}
	return s, nil
}
