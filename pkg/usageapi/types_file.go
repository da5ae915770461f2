package usageapi

import (
	"encoding/json"
	"time"
)

// File is a usage file as listed by GET /usage/files (usage.UsageFileList).
type File struct {
	ID             string       `json:"id"`
	Name           string       `json:"name,omitempty"`
	ExternalID     string       `json:"external_id"`
	Status         FileStatus   `json:"status"`
	Vendor         *Account     `json:"vendor,omitempty"`
	Provider       *Account     `json:"provider,omitempty"`
	Environment    Environment  `json:"environment,omitempty"`
	Marketplace    *Marketplace `json:"marketplace,omitempty"`
	Contract       *Contract    `json:"contract,omitempty"`
	Product        *Product     `json:"product,omitempty"`
	ErrorDetail    string       `json:"error_detail,omitempty"`
	Description    string       `json:"description,omitempty"`
	AcceptanceNote string       `json:"acceptance_note,omitempty"`
	RejectionNote  string       `json:"rejection_note,omitempty"`
	Schema         Schema       `json:"schema,omitempty"`
	Currency       string       `json:"currency,omitempty"`
	Period         *Period      `json:"period,omitempty"`
	Stats          *Stats       `json:"stats,omitempty"`
	Events         *Events      `json:"events,omitempty"`
}

// FileDetail is a usage file as GET /usage/files/{id} and the action endpoints answer
// (usage.UsageFileDetail): the list fields plus the detail-only ones. The URIs are signed,
// short-lived download links; download them with Client.Download (no Authorization is sent).
type FileDetail struct {
	File
	SubStatus             FileSubStatus `json:"sub_status,omitempty"`
	UsageFileURI          string        `json:"usage_file_uri,omitempty"`
	ProcessedFileURI      string        `json:"processed_file_uri,omitempty"`
	ReconciliationFileURI string        `json:"reconciliation_file_uri,omitempty"`
	Records               *RecordCounts `json:"records,omitempty"`
}

// RecordCounts counts the records of a processed file (detail only).
type RecordCounts struct {
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
	Closed  int `json:"closed"`
}

// CreateFileRequest is the body of POST /usage/files. The server derives vendor, provider,
// marketplace, environment and schema from the contract and the product.
// ExternalID is the caller's idempotency key: see Client.FindOrCreateFile.
type CreateFileRequest struct {
	Name        string  `json:"name,omitempty"`
	Description string  `json:"description,omitempty"`
	Note        string  `json:"note,omitempty"`
	Period      *Period `json:"period,omitempty"`
	Currency    string  `json:"currency,omitempty"`
	Product     *IDRef  `json:"product,omitempty"`
	Contract    *IDRef  `json:"contract,omitempty"`
	ExternalID  string  `json:"external_id,omitempty"`
}

// UpdateFileRequest is the body of PUT /usage/files/{id}; empty fields are not sent.
type UpdateFileRequest struct {
	Description string  `json:"description,omitempty"`
	Note        string  `json:"note,omitempty"`
	Period      *Period `json:"period,omitempty"`
	Currency    string  `json:"currency,omitempty"`
	ExternalID  string  `json:"external_id,omitempty"`
}

// FileUpdate is the answer of PUT /usage/files/{id} (usage.UsageFileUpdate).
type FileUpdate struct {
	Description string `json:"description,omitempty"`
	Note        string `json:"note,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// AcceptFileRequest is the body of POST /usage/files/{id}/accept.
type AcceptFileRequest struct {
	AcceptanceNote string `json:"acceptance_note"`
}

// RejectFileRequest is the body of POST /usage/files/{id}/reject.
type RejectFileRequest struct {
	RejectionNote string `json:"rejection_note"`
}

// Category is a record category of a usage file (usage.Categories).
type Category struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// TemplateLink is the answer of GET /usage/products/{id}/template.
type TemplateLink struct {
	TemplateLink string `json:"template_link"`
}

// FileCreated is the 201 answer of POST /usage/files. The spec (usage.UsageFileCreate) describes
// a flat object: vendor, provider, marketplace and distribution_contract as ids, product_* fields.
// Servers have also answered with the nested detail shape ({"vendor": {"id": ...}, "contract":
// {...}, "product": {...}, "status": "draft"}); UnmarshalJSON accepts both. It marshals flat.
type FileCreated struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name,omitempty"`
	ExternalID           string      `json:"external_id"`
	Status               FileStatus  `json:"status,omitempty"`
	Vendor               string      `json:"vendor,omitempty"`
	Provider             string      `json:"provider,omitempty"`
	Environment          Environment `json:"environment,omitempty"`
	Marketplace          string      `json:"marketplace,omitempty"`
	DistributionContract string      `json:"distribution_contract,omitempty"`
	ProductID            string      `json:"product_id,omitempty"`
	ProductName          string      `json:"product_name,omitempty"`
	ProductIcon          string      `json:"product_icon,omitempty"`
	Description          string      `json:"description,omitempty"`
	Schema               Schema      `json:"schema,omitempty"`
	Currency             string      `json:"currency,omitempty"`
	StartDatetimeUTC     *time.Time  `json:"start_datetime_utc,omitempty"`
	EndDatetimeUTC       *time.Time  `json:"end_datetime_utc,omitempty"`
}

// UnmarshalJSON decodes both the flat (spec) and the nested (detail) shapes.
func (f *FileCreated) UnmarshalJSON(b []byte) error {
	type flat FileCreated
	var w struct {
		flat
		Vendor      idOrObject  `json:"vendor"`
		Provider    idOrObject  `json:"provider"`
		Marketplace idOrObject  `json:"marketplace"`
		Contract    *idOrObject `json:"contract"`
		Product     *idOrObject `json:"product"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = FileCreated(w.flat)
	f.Vendor, f.Provider, f.Marketplace = w.Vendor.ID, w.Provider.ID, w.Marketplace.ID
	if w.Contract != nil && f.DistributionContract == "" {
		f.DistributionContract = w.Contract.ID
	}
	if p := w.Product; p != nil && f.ProductID == "" {
		f.ProductID, f.ProductName, f.ProductIcon = p.ID, p.Name, p.Icon
	}
	return nil
}

// StatusAt is the time of the event that put the file in its status: rejected.at for a rejected file,
// uploaded.at otherwise (zero for a file never uploaded). Two reads of a file with the same status and
// StatusAt saw it in the same state, not a later one (a new rejection, or another upload).
func (f *File) StatusAt() time.Time {
	if f.Events == nil {
		return time.Time{}
	}
	if f.Status == FileStatusRejected && f.Events.Rejected != nil {
		return f.Events.Rejected.At.UTC()
	}
	if f.Events.Uploaded != nil {
		return f.Events.Uploaded.At.UTC()
	}
	return time.Time{}
}
