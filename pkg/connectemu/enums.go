package connectemu

import "github.com/usagepipe/usagepipe/pkg/usageapi"

// The enums of the spec's filterable fields: an eq, ne, in or out value outside them is answered 400.
var (
	fileStatuses = []usageapi.FileStatus{
		usageapi.FileStatusDraft, usageapi.FileStatusUploading, usageapi.FileStatusUploaded,
		usageapi.FileStatusInvalid, usageapi.FileStatusProcessing, usageapi.FileStatusReady,
		usageapi.FileStatusRejected, usageapi.FileStatusPending, usageapi.FileStatusAccepted,
		usageapi.FileStatusClosed, usageapi.FileStatusDeleted,
	}
	environments = []usageapi.Environment{
		usageapi.EnvironmentTest, usageapi.EnvironmentPreview, usageapi.EnvironmentProduction,
	}
	schemas = []usageapi.Schema{usageapi.SchemaTR, usageapi.SchemaPR, usageapi.SchemaQT, usageapi.SchemaCR}

	recordStatuses = []usageapi.RecordStatus{
		usageapi.RecordStatusValid, usageapi.RecordStatusInvalid, usageapi.RecordStatusApproved,
		usageapi.RecordStatusRejected, usageapi.RecordStatusClosed,
	}
	chunkStatuses = []usageapi.ChunkStatus{
		usageapi.ChunkStatusDraft, usageapi.ChunkStatusReady, usageapi.ChunkStatusClosed, usageapi.ChunkStatusFailed,
	}
	itemTypes    = []usageapi.ItemType{usageapi.ItemTypeReservation, usageapi.ItemTypePPU}
	ruleActions  = []usageapi.RuleAction{usageapi.RuleActionAccept, usageapi.RuleActionReject, usageapi.RuleActionManual}
	ruleScopes   = []usageapi.RuleScope{usageapi.RuleScopeRecord, usageapi.RuleScopeFile}
	ruleStatuses = []usageapi.RuleStatus{usageapi.RuleStatusActive, usageapi.RuleStatusDeleted}
)
