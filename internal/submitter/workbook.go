package submitter

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// workbook is a built usage workbook and the records that could not be written into it.
type workbook struct {
	data       []byte
	rows       int
	unwritable map[string]string // record id → why
	written    []source
}

// buildWorkbook writes the records sheet of a file: one row per record in order, record_id the record's
// RecordID, the reported quantity (a delta for adjustments), the amount, the period as UTC times (end
// inclusive, Connect style), the asset found by spec.AssetSearch and the subscription, the item by its
// catalog criteria, the tier (TR). A record the workbook refuses (usagefile.ErrInvalidRecord, e.g. more
// decimals than the item's precision) is left out and reported in unwritable.
func buildWorkbook(spec *ledger.FileSpec, records []source) (*workbook, error) {
	var buf bytes.Buffer
	w, err := usagefile.NewWriter(&buf, usagefile.WriteOptions{Schema: spec.Schema})
	if err != nil {
		return nil, fmt.Errorf("submitter: workbook: %w", err)
	}
	wb := &workbook{unwritable: map[string]string{}}
	for i := range records {
		err := w.Add(row(spec, &records[i]))
		switch {
		case errors.Is(err, usagefile.ErrInvalidRecord):
			wb.unwritable[records[i].id] = err.Error()
		case err != nil:
			_ = w.Close()
			return nil, fmt.Errorf("submitter: workbook: %w", err)
		default:
			wb.written = append(wb.written, records[i])
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("submitter: workbook: %w", err)
	}
	wb.data, wb.rows = buf.Bytes(), len(wb.written)
	return wb, nil
}

// row is the workbook row of one record of a file of spec s.
func row(s *ledger.FileSpec, src *source) usagefile.Record {
	r := &src.rec
	it, ok := s.Items[r.Item]
	if !ok {
		it = ledger.ItemSpec{Criteria: usagefile.ItemByMPN, Value: r.Item, Precision: events.PrecisionDecimal8}
	}
	row := usagefile.Record{
		RecordID:            src.id,
		RecordNote:          recordNote(r),
		ItemSearchCriteria:  it.Criteria,
		ItemSearchValue:     it.Value,
		Quantity:            reported(r),
		Amount:              r.Amount,
		StartTimeUTC:        r.PeriodStart.UTC(),
		EndTimeUTC:          lastSecond(r.PeriodStart, r.PeriodEnd).UTC(),
		AssetSearchCriteria: s.AssetSearch,
		AssetSearchValue:    r.Subscription,
		Precision:           it.Precision,
	}
	if s.Schema == events.SchemaTR {
		row.Tier = r.Tier
	}
	if row.Amount == nil && s.Schema.RequiresAmount() {
		zero := events.Decimal{}
		row.Amount = &zero
	}
	return row
}

// recordNote says what an adjustment row is: its revision and how its quantity was derived.
func recordNote(r *events.PeriodRecord) string {
	if r.Kind != events.RecordAdjustment {
		return ""
	}
	if r.Mode == events.ModeReplace {
		return fmt.Sprintf("adjustment r%d: new %s - previous value", r.Revision, r.Aggregation)
	}
	return fmt.Sprintf("adjustment r%d: %s delta", r.Revision, r.Aggregation)
}
