package usageapi

import "encoding/json"

// Chunk is a usage file chunk, a "part usage file" of one hub binding (usage.PartUsageFile).
type Chunk struct {
	ID          string       `json:"id"`
	ExternalID  string       `json:"external_id"`
	Status      ChunkStatus  `json:"status,omitempty"`
	Outdated    bool         `json:"outdated"`
	UsageFile   *FileRef     `json:"usagefile,omitempty"`
	Binding     *Binding     `json:"binding,omitempty"`
	Marketplace *Marketplace `json:"marketplace,omitempty"`
	Provider    *Account     `json:"provider,omitempty"`
	Error       *ErrorDetail `json:"error,omitempty"`
	Events      *Events      `json:"events,omitempty"`
	Stats       *Stats       `json:"stats,omitempty"`
}

// UpdateChunkRequest is the body of PUT /usage/chunks/{id}.
type UpdateChunkRequest struct {
	ExternalID string `json:"external_id"`
}

// CloseChunkRequest is the body of POST /usage/chunks/{id}/close.
type CloseChunkRequest struct {
	ExternalBillingID   string `json:"external_billing_id"`
	ExternalBillingNote string `json:"external_billing_note,omitempty"`
}

// ChunkRef is the short form of a chunk in a reconciliation (usage.ReferencePartUsageFile).
type ChunkRef struct {
	ID       string   `json:"id,omitempty"`
	Provider *Account `json:"provider"`
}

// Reconciliation is an uploaded reconciliation workbook (usage.Reconciliation).
type Reconciliation struct {
	ID            string               `json:"id"`
	Status        ReconciliationStatus `json:"status,omitempty"`
	UsageFile     *FileRef             `json:"usagefile,omitempty"`
	PartUsageFile *ChunkRef            `json:"partusagefile,omitempty"`
	Binding       *Binding             `json:"binding,omitempty"`
	Error         *ErrorDetail         `json:"error,omitempty"`
	Notes         *ReconciliationNotes `json:"notes,omitempty"`
	Events        *Events              `json:"events,omitempty"`
}

// ReconciliationNotes are the read-only notes of a reconciliation.
type ReconciliationNotes struct {
	Uploaded   string `json:"uploaded,omitempty"`
	Processing string `json:"processing,omitempty"`
}

// Aggregate sums the usage of one item of one asset (usage.UsageRecordAggregate).
// Consumed and Accepted are integers in the spec (scaled by the item precision);
// they are kept exact as json.Number.
type Aggregate struct {
	Item     *RecordItem      `json:"item"`
	Asset    *Asset           `json:"asset"`
	Amount   json.Number      `json:"amount,omitempty"`
	Currency string           `json:"currency,omitempty"`
	Consumed json.Number      `json:"consumed,omitempty"`
	Accepted json.Number      `json:"accepted,omitempty"`
	Events   *AggregateEvents `json:"events,omitempty"`
}

// AggregateEvents are the events of an aggregate.
type AggregateEvents struct {
	LastReported *Event `json:"last_reported,omitempty"`
}

// Rule is a provider's usage rule on a product item (usage.UsageItemRule).
type Rule struct {
	ID     string      `json:"id"`
	Action RuleAction  `json:"action,omitempty"`
	Rule   string      `json:"rule,omitempty"`
	Scope  RuleScope   `json:"scope,omitempty"`
	Status RuleStatus  `json:"status,omitempty"`
	Item   *RuleItem   `json:"item,omitempty"`
	Events *RuleEvents `json:"events,omitempty"`
}

// RuleItem is the item a rule applies to (usage.UsageRuleReferenceItem).
type RuleItem struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// RuleEvents are the events of a rule.
type RuleEvents struct {
	Created *Event `json:"created,omitempty"`
	Updated *Event `json:"updated,omitempty"`
}

// RuleRequest is the body of POST and PUT /products/{product_pk}/usage/rules[/{id}].
// Gravity (PUT only) moves the rule after another one.
type RuleRequest struct {
	Item    *IDRef       `json:"item,omitempty"`
	Action  RuleAction   `json:"action,omitempty"`
	Rule    string       `json:"rule,omitempty"`
	Status  RuleStatus   `json:"status,omitempty"`
	Gravity *RuleGravity `json:"gravity,omitempty"`
}

// RuleGravity positions a rule: after the rule with this id.
type RuleGravity struct {
	After string `json:"after"`
}
