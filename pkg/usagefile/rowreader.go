package usagefile

import (
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// rowReader reads one records row into a ReadRecord, collecting problems.
type rowReader struct {
	sheet    string
	h        *header
	cells    []string
	schema   events.Schema
	date1904 bool
	rec      ReadRecord
}

func (r *rowReader) read(row int) ReadRecord {
	r.rec = ReadRecord{Row: row}
	r.identity()
	r.numbers()
	r.period()
	r.item()
	rec := &r.rec
	rec.RecordNote = r.h.cell(r.cells, ColRecordNote)
	rec.CategoryID = r.h.cell(r.cells, ColCategoryID)
	rec.AssetReconID = r.h.cell(r.cells, ColAssetReconID)
	rec.Status, rec.Error = r.h.cell(r.cells, ColStatus), r.h.cell(r.cells, ColError)
	r.params()
	return r.rec
}

func (r *rowReader) problem(row int, column, value string, err error) Problem {
	return Problem{Sheet: r.sheet, Row: row, Column: column, Value: value, Err: err}
}

func (r *rowReader) add(column, value string, err error) {
	r.rec.Problems = append(r.rec.Problems, r.problem(r.rec.Row, column, value, err))
}

// required returns the cell of a required column, reporting it when the
// column or the value is missing.
func (r *rowReader) required(column string, needed bool) (string, bool) {
	v := r.h.cell(r.cells, column)
	switch {
	case v != "" || !needed:
		return v, v != ""
	case !r.h.has(column):
		r.add(column, "", ErrMissingColumn)
	default:
		r.add(column, "", ErrMissingValue)
	}
	return "", false
}

func (r *rowReader) identity() {
	rec := &r.rec
	rec.RecordID, _ = r.required(ColRecordID, true)
	rec.ItemSearchValue, _ = r.required(ColItemSearchValue, true)
	rec.AssetSearchValue, _ = r.required(ColAssetSearchValue, true)
	if v, ok := r.required(ColItemSearchCriteria, true); ok {
		rec.ItemSearchCriteria = v
		if !checkItemCriteria(v) {
			r.add(ColItemSearchCriteria, v, ErrBadCriteria)
		}
	}
	if v, ok := r.required(ColAssetSearchCriteria, true); ok {
		rec.AssetSearchCriteria = v
		if !checkAssetCriteria(v) {
			r.add(ColAssetSearchCriteria, v, ErrBadCriteria)
		}
	}
}

func (r *rowReader) numbers() {
	rec := &r.rec
	if v, ok := r.required(ColQuantity, true); ok {
		d, err := parseDecimal(v)
		if err != nil {
			r.add(ColQuantity, v, ErrBadNumber)
		}
		rec.Quantity = d
	}
	if v, ok := r.required(ColAmount, r.schema.RequiresAmount()); ok {
		if d, err := parseDecimal(v); err != nil {
			r.add(ColAmount, v, ErrBadNumber)
		} else {
			rec.Amount = &d
		}
	}
	if v, ok := r.required(ColTier, needsTier(r.schema)); ok {
		tier, err := parseTier(v)
		if err != nil {
			r.add(ColTier, v, ErrBadNumber)
		} else if tier < 1 && needsTier(r.schema) {
			r.add(ColTier, v, fmt.Errorf("%w: schema TR needs a tier of at least 1", ErrBadNumber))
		}
		rec.Tier = tier
	}
}

func (r *rowReader) period() {
	rec := &r.rec
	if v, ok := r.required(ColStartTime, true); ok {
		t, err := parseTime(v, r.date1904)
		if err != nil {
			r.add(ColStartTime, v, fmt.Errorf("%w: %v", ErrBadTime, err))
		}
		rec.StartTimeUTC = t
	}
	if v, ok := r.required(ColEndTime, true); ok {
		t, err := parseTime(v, r.date1904)
		if err != nil {
			r.add(ColEndTime, v, fmt.Errorf("%w: %v", ErrBadTime, err))
		}
		rec.EndTimeUTC = t
	}
	if !rec.StartTimeUTC.IsZero() && rec.EndTimeUTC.Before(rec.StartTimeUTC) && !rec.EndTimeUTC.IsZero() {
		r.add(ColEndTime, r.h.cell(r.cells, ColEndTime), fmt.Errorf("%w: before %s", ErrBadTime, ColStartTime))
	}
}

// item reads the dynamic item columns and derives Precision: the one
// item_precision names, else the smallest that holds the quantity.
func (r *rowReader) item() {
	rec := &r.rec
	rec.ItemName = r.h.cell(r.cells, ColItemName)
	rec.ItemMPN = r.h.cell(r.cells, ColItemMPN)
	rec.ItemUnit = r.h.cell(r.cells, ColItemUnit)
	rec.ItemPrecision = r.h.cell(r.cells, ColItemPrecision)
	rec.Precision = placesFor(rec.Quantity, events.PrecisionInteger)
	if rec.ItemPrecision == "" {
		return
	}
	if p, err := events.ParsePrecision(strings.ToLower(rec.ItemPrecision)); err == nil {
		rec.Precision = p
	} else {
		r.add(ColItemPrecision, rec.ItemPrecision, ErrBadPrecision)
	}
}

func (r *rowReader) params() {
	for _, p := range r.h.params {
		if p.index < len(r.cells) && strings.TrimSpace(r.cells[p.index]) != "" {
			if r.rec.Params == nil {
				r.rec.Params = map[string]string{}
			}
			r.rec.Params[p.name] = strings.TrimSpace(r.cells[p.index])
		}
	}
}
