package usageapi

import (
	"context"
	"errors"
)

// Records lists usage records (GET /usage/records). Filterable fields include usagefile.id,
// usagefile.schema, status, asset.id, item.id, product.id, hub.id, start_date, end_date (there is no
// id filter); see the spec. Orderable: created_time, status, usage_start_time. Without an Ordering
// term, All pages ordered by created_time, so records created while the pages are read come last.
// No orderable field is unique: records created together tie, and the order among them is the
// server's; records removed meanwhile (a re-upload or a delete) still shift the offsets.
func (c *Client) Records(terms ...Term) List[Record] {
	return newList[Record](c, "ListRecords", "/usage/records", terms).orderedBy("created_time")
}

// GetRecord returns a usage record (GET /usage/records/{id}).
func (c *Client) GetRecord(ctx context.Context, id string) (*Record, error) {
	return callJSON[Record](ctx, c, "GetRecord", "GET", pathOf("usage", "records", id), nil)
}

// UpdateRecordStatus sets the status of a record (PUT /usage/records/{id}; provider).
// Retried: a PUT of the same status is idempotent.
func (c *Client) UpdateRecordStatus(ctx context.Context, id string, status RecordStatus) (*Record, error) {
	return callJSON[Record](ctx, c, "UpdateRecordStatus", "PUT", pathOf("usage", "records", id), UpdateRecordRequest{Status: status})
}

// CloseRecord closes an approved record with its external billing id and note
// (POST /usage/records/{id}/close; provider). Retried: closing again with the same values changes
// nothing; if a retry is refused, the record is read back and the call succeeds if it is closed
// with this billing id.
func (c *Client) CloseRecord(ctx context.Context, id, billingID, note string) (*Record, error) {
	body := CloseRecordRequest{ExternalBillingID: billingID, ExternalBillingNote: note}
	r, err := newRequest("CloseRecord", "POST", pathOf("usage", "records", id, "close"), body)
	if err != nil {
		return nil, err
	}
	return callConfirmed(ctx, c, r, func(ctx context.Context) (*Record, bool, error) {
		rec, err := c.GetRecord(ctx, id)
		if err != nil {
			return nil, false, err
		}
		return rec, rec.Status == RecordStatusClosed && rec.ExternalBillingID == billingID, nil
	})
}

// ErrNoRecords is returned by CloseRecords for an empty batch.
var ErrNoRecords = errors.New("usageapi: no records to close")

// CloseRecords closes many records at once (POST /usage/records/close-records, a JSON array;
// answered 206 with one result per record). Check each result's Failed. Retried: closing a closed
// record again with the same values changes nothing (a record closed by an earlier, lost attempt
// may then come back as a failed item: read it to be sure).
func (c *Client) CloseRecords(ctx context.Context, records []CloseRecordRequest) ([]CloseRecordResult, error) {
	if len(records) == 0 {
		return nil, ErrNoRecords
	}
	out, err := callJSON[[]CloseRecordResult](ctx, c, "CloseRecords", "POST", "/usage/records/close-records", records)
	if err != nil {
		return nil, err
	}
	return *out, nil
}
