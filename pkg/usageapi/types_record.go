package usageapi

import (
	"encoding/json"
	"time"
)

// Record is a usage record (usage.UsageRecord). Usage and Amount are exact decimals.
type Record struct {
	ID                  string            `json:"id"`
	Usage               json.Number       `json:"usage"`
	Amount              json.Number       `json:"amount,omitempty"`
	Multiplier          int               `json:"multiplier,omitempty"`
	Tier                *int              `json:"tier,omitempty"`
	Status              RecordStatus      `json:"status,omitempty"`
	Item                *RecordItem       `json:"item,omitempty"`
	Asset               *Asset            `json:"asset,omitempty"`
	Category            *RecordCategory   `json:"category,omitempty"`
	Params              []RecordParameter `json:"params,omitempty"`
	StartDate           time.Time         `json:"start_date,omitzero"`
	EndDate             time.Time         `json:"end_date,omitzero"`
	ProductID           string            `json:"product_id,omitempty"`
	ExternalBillingID   string            `json:"external_billing_id,omitempty"`
	ExternalBillingNote string            `json:"external_billing_note,omitempty"`
	ClosedAt            *time.Time        `json:"closed_at,omitempty"`
	ClosedBy            string            `json:"closed_by,omitempty"`
	ItemID              string            `json:"item_id,omitempty"`
	AssetID             string            `json:"asset_id,omitempty"`
	ResourceLocalID     string            `json:"resource_local_id,omitempty"`
	AssetExternalID     string            `json:"asset_external_id,omitempty"`
	AssetExternalUID    string            `json:"asset_external_uid,omitempty"`
	UsageFile           *FileRef          `json:"usagefile,omitempty"`
}

// RecordItem is the item of a record or aggregate (usage.ReferenceItem).
// Precision and Type are read-only, e.g. "decimal(4)" / "PPU".
type RecordItem struct {
	ID        string `json:"id"`
	LocalID   string `json:"local_id,omitempty"`
	Name      string `json:"name"`
	Unit      string `json:"unit,omitempty"`
	MPN       string `json:"mpn,omitempty"`
	Precision string `json:"precision,omitempty"`
	Type      string `json:"type,omitempty"`
}

// Asset is the asset of a record or aggregate (usage.ReferenceAsset).
type Asset struct {
	ID          string `json:"id"`
	ExternalID  string `json:"external_id,omitempty"`
	ExternalUID string `json:"external_uid,omitempty"`
}

// RecordParameter is a custom column of a record (usage.UsageRecordParameters).
type RecordParameter struct {
	ParameterName  string `json:"parameter_name"`
	ParameterValue string `json:"parameter_value,omitempty"`
}

// RecordCategory is the category of a record. The spec types it as a string (the id);
// real answers carry an object {id, name[, description]}. Both decode; it marshals as the
// bare id when it has nothing else, as an object otherwise.
type RecordCategory struct {
	ID          string
	Name        string
	Description string
}

// MarshalJSON implements json.Marshaler.
func (c RecordCategory) MarshalJSON() ([]byte, error) {
	if c.Name == "" && c.Description == "" {
		return json.Marshal(c.ID)
	}
	return json.Marshal(Category(c))
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *RecordCategory) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.ID)
	}
	var o Category
	if string(b) != "null" {
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
	}
	*c = RecordCategory(o)
	return nil
}

// UpdateRecordRequest is the body of PUT /usage/records/{id}.
type UpdateRecordRequest struct {
	Status RecordStatus `json:"status"`
}

// CloseRecordRequest is the body of POST /usage/records/{id}/close, and (with ID) one item of
// POST /usage/records/close-records.
type CloseRecordRequest struct {
	ID                  string `json:"id,omitempty"`
	ExternalBillingID   string `json:"external_billing_id,omitempty"`
	ExternalBillingNote string `json:"external_billing_note,omitempty"`
}

// CloseRecordResult is one item of the 206 answer of POST /usage/records/close-records.
// A record that could not be closed has ErrorCodes/ErrorDetails set and keeps its status; a record the
// server does not know has no status (the spec's enum has no value for it, and no field is required).
type CloseRecordResult struct {
	ID           string       `json:"id"`
	Status       RecordStatus `json:"status,omitempty"`
	ErrorCodes   string       `json:"error_codes,omitempty"`
	ErrorDetails string       `json:"error_details,omitempty"`
}

// Failed reports whether the server refused to close this record.
func (r CloseRecordResult) Failed() bool {
	return r.ErrorCodes != "" || r.ErrorDetails != "" || r.Status != RecordStatusClosed
}
