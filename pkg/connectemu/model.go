package connectemu

import (
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// fileState is one usage file as the emulator stores it (and persists it, as JSON).
type fileState struct {
	ID             string                `json:"id"`
	Name           string                `json:"name,omitempty"`
	Description    string                `json:"description,omitempty"`
	Note           string                `json:"note,omitempty"`
	ExternalID     string                `json:"external_id"`
	Status         usageapi.FileStatus   `json:"status"`
	Environment    usageapi.Environment  `json:"environment"`
	Schema         usageapi.Schema       `json:"schema"`
	Currency       string                `json:"currency,omitempty"`
	Period         usageapi.Period       `json:"period"`
	Vendor         usageapi.Account      `json:"vendor"`
	Provider       usageapi.Account      `json:"provider"`
	Marketplace    usageapi.Marketplace  `json:"marketplace"`
	Contract       usageapi.Contract     `json:"contract"`
	Product        usageapi.Product      `json:"product"`
	ErrorDetail    string                `json:"error_detail,omitempty"`
	AcceptanceNote string                `json:"acceptance_note,omitempty"`
	RejectionNote  string                `json:"rejection_note,omitempty"`
	Events         usageapi.Events       `json:"events"`
	Upload         string                `json:"upload,omitempty"`    // blob key of the uploaded workbook
	Processed      string                `json:"processed,omitempty"` // blob key of the processed workbook
	Recon          string                `json:"recon,omitempty"`     // blob key of the last reconciliation workbook
	Uploaded       int                   `json:"uploaded"`            // rows of the last upload
	Counts         usageapi.RecordCounts `json:"counts"`              // valid/invalid rows of the last processing
	Stats          usageapi.Stats        `json:"stats"`               // kept up to date by recountLocked
	Categories     []usageapi.Category   `json:"categories,omitempty"`
	Generation     int                   `json:"generation"`  // bumped by every upload; stale processing is dropped
	Submissions    int                   `json:"submissions"` // bumped by every submit; stale decisions are dropped
}

// recordState is one stored usage record.
type recordState struct {
	ID                  string                     `json:"id"`
	FileID              string                     `json:"file_id"`
	RecordID            string                     `json:"record_id"` // the vendor's record_id column
	Note                string                     `json:"note,omitempty"`
	Status              usageapi.RecordStatus      `json:"status"`
	Item                usageapi.RecordItem        `json:"item"`
	Asset               usageapi.Asset             `json:"asset"`
	AssetReconID        string                     `json:"asset_recon_id,omitempty"`
	Hub                 string                     `json:"hub,omitempty"`
	Chunk               string                     `json:"chunk,omitempty"`
	ProductID           string                     `json:"product_id"`
	Schema              usageapi.Schema            `json:"schema,omitempty"` // its file's, for the usagefile.schema filter
	Category            string                     `json:"category,omitempty"`
	Tier                *int                       `json:"tier,omitempty"`
	Usage               string                     `json:"usage"`            // canonical decimal text
	Amount              string                     `json:"amount,omitempty"` // canonical decimal text, "" for null
	Start               time.Time                  `json:"start"`
	End                 time.Time                  `json:"end"`
	Params              []usageapi.RecordParameter `json:"params,omitempty"`
	ExternalBillingID   string                     `json:"external_billing_id,omitempty"`
	ExternalBillingNote string                     `json:"external_billing_note,omitempty"`
	ClosedAt            *time.Time                 `json:"closed_at,omitempty"`
	ClosedBy            string                     `json:"closed_by,omitempty"`
	Created             time.Time                  `json:"created"`
}

// chunkState is one part usage file: the records of an accepted file billed by one hub.
type chunkState struct {
	ID          string               `json:"id"`
	FileID      string               `json:"file_id"`
	Hub         usageapi.Hub         `json:"hub"`
	Status      usageapi.ChunkStatus `json:"status"`
	ExternalID  string               `json:"external_id,omitempty"`
	Outdated    bool                 `json:"outdated,omitempty"`
	ErrorDetail string               `json:"error_detail,omitempty"`
	Events      usageapi.Events      `json:"events"`
	Generation  int                  `json:"generation"`
}

// reconState is one reconciliation upload.
type reconState struct {
	ID          string                        `json:"id"`
	FileID      string                        `json:"file_id,omitempty"`
	ChunkID     string                        `json:"chunk_id,omitempty"`
	Status      usageapi.ReconciliationStatus `json:"status"`
	UploadNote  string                        `json:"upload_note,omitempty"`
	ProcessNote string                        `json:"process_note,omitempty"`
	ErrorDetail string                        `json:"error_detail,omitempty"`
	Upload      string                        `json:"upload"`
	Processed   string                        `json:"processed,omitempty"`
	Events      usageapi.Events               `json:"events"`
}

// ruleState is one usage rule of a product.
type ruleState struct {
	ID        string              `json:"id"`
	ProductID string              `json:"product_id"`
	Action    usageapi.RuleAction `json:"action"`
	Scope     usageapi.RuleScope  `json:"scope"`
	Rule      string              `json:"rule,omitempty"`
	Status    usageapi.RuleStatus `json:"status"`
	Item      usageapi.RuleItem   `json:"item"`
	Created   time.Time           `json:"created"`
	Updated   time.Time           `json:"updated"`
}

// schemaOf maps a product capability schema (QT) to the usage namespace's (qt).
func schemaOf(productSchema string) (usageapi.Schema, bool) {
	s := usageapi.Schema(strings.ToLower(productSchema))
	switch s {
	case usageapi.SchemaQT, usageapi.SchemaTR, usageapi.SchemaCR, usageapi.SchemaPR:
		return s, true
	}
	return "", false
}

// fileRef is the short form of f embedded in records, chunks and reconciliations.
func (f *fileState) ref() *usageapi.FileRef {
	return &usageapi.FileRef{ID: f.ID, Name: f.Name, Schema: f.Schema, Currency: f.Currency}
}

// event returns an event at t by the emulated actor; automatic actions have no actor.
func event(t time.Time, by *usageapi.User) *usageapi.Event {
	return &usageapi.Event{At: t.UTC(), By: by}
}
