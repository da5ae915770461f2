package usageapi

// FileStatus is the status of a usage file (usage.UsageFileDetail.status).
type FileStatus string

// Usage file statuses, as the spec enumerates them. See the lifecycle in the package doc.
const (
	FileStatusDraft      FileStatus = "draft"
	FileStatusUploading  FileStatus = "uploading"
	FileStatusUploaded   FileStatus = "uploaded"
	FileStatusInvalid    FileStatus = "invalid"
	FileStatusProcessing FileStatus = "processing"
	FileStatusReady      FileStatus = "ready"
	FileStatusRejected   FileStatus = "rejected"
	FileStatusPending    FileStatus = "pending"
	FileStatusAccepted   FileStatus = "accepted"
	FileStatusClosed     FileStatus = "closed"
	FileStatusDeleted    FileStatus = "deleted"
)

// Known reports whether s is one of the statuses the spec enumerates.
func (s FileStatus) Known() bool {
	switch s {
	case FileStatusDraft, FileStatusUploading, FileStatusUploaded, FileStatusInvalid, FileStatusProcessing,
		FileStatusReady, FileStatusRejected, FileStatusPending, FileStatusAccepted, FileStatusClosed, FileStatusDeleted:
		return true
	}
	return false
}

// Processing reports whether the server is still working on an uploaded workbook
// (uploading, uploaded or processing): the status will change without any client call.
func (s FileStatus) Processing() bool {
	return s == FileStatusUploading || s == FileStatusUploaded || s == FileStatusProcessing
}

// FileSubStatus is the detail-only sub status of a usage file (usage.UsageFileDetail.sub_status).
type FileSubStatus string

// Usage file sub statuses.
const (
	FileSubStatusProcessing FileSubStatus = "processing"
	FileSubStatusProcessed  FileSubStatus = "processed"
)

// Schema is the usage schema of a file (lowercase in the usage namespace; products use uppercase).
type Schema string

// Usage schemas: tiered, price, quantity, cost.
const (
	SchemaTR Schema = "tr"
	SchemaPR Schema = "pr"
	SchemaQT Schema = "qt"
	SchemaCR Schema = "cr"
)

// Environment is the environment a usage file belongs to.
type Environment string

// Environments.
const (
	EnvironmentTest       Environment = "test"
	EnvironmentPreview    Environment = "preview"
	EnvironmentProduction Environment = "production"
)

// RecordStatus is the status of a usage record (usage.UsageRecord.status), also the
// status of each item of a bulk close answer.
type RecordStatus string

// Usage record statuses.
const (
	RecordStatusValid    RecordStatus = "valid"
	RecordStatusInvalid  RecordStatus = "invalid"
	RecordStatusApproved RecordStatus = "approved"
	RecordStatusRejected RecordStatus = "rejected"
	RecordStatusClosed   RecordStatus = "closed"
)

// ChunkStatus is the status of a usage file chunk (usage.PartUsageFile.status).
type ChunkStatus string

// Chunk statuses.
const (
	ChunkStatusDraft  ChunkStatus = "draft"
	ChunkStatusReady  ChunkStatus = "ready"
	ChunkStatusClosed ChunkStatus = "closed"
	ChunkStatusFailed ChunkStatus = "failed"
)

// ReconciliationStatus is the status of a reconciliation (usage.Reconciliation.status).
type ReconciliationStatus string

// Reconciliation statuses.
const (
	ReconciliationStatusUploaded   ReconciliationStatus = "uploaded"
	ReconciliationStatusProcessing ReconciliationStatus = "processing"
	ReconciliationStatusProcessed  ReconciliationStatus = "processed"
	ReconciliationStatusFailed     ReconciliationStatus = "failed"
)

// ItemType is the type of an item, as the aggregates filter item.type spells it.
type ItemType string

// Item types.
const (
	ItemTypeReservation ItemType = "Reservation"
	ItemTypePPU         ItemType = "PPU"
)

// RuleAction is what a usage rule does (usage.UsageItemRule.action).
type RuleAction string

// Usage rule actions.
const (
	RuleActionAccept RuleAction = "accept"
	RuleActionReject RuleAction = "reject"
	RuleActionManual RuleAction = "manual"
)

// RuleScope is what a usage rule applies to (usage.UsageItemRule.scope).
type RuleScope string

// Usage rule scopes.
const (
	RuleScopeRecord RuleScope = "record"
	RuleScopeFile   RuleScope = "file"
)

// RuleStatus is the status of a usage rule.
type RuleStatus string

// Usage rule statuses.
const (
	RuleStatusActive  RuleStatus = "active"
	RuleStatusDeleted RuleStatus = "deleted"
)

// Multipart field names of the upload operations.
const (
	FieldUsageFile  = "usage_file"  // POST /usage/files/{id}/upload
	FieldReconFile  = "recon_file"  // POST /usage/files/{id}/reconciliation and POST /usage/reconciliations
	FieldUploadNote = "upload_note" // POST /usage/reconciliations
)

// XLSXContentType is the media type of every workbook the API accepts or serves.
const XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
