package usageapitest

import (
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// The filterable fields of each list endpoint, as the spec documents them (aliases included). A query naming
// any other field is answered 400 RQL_001.

// str is a getter result for a string field; "" reads as an empty string, not null.
func str(s string) (string, bool) { return s, true }

// opt is a getter result for a nullable field: "" reads as null.
func opt(s string) (string, bool) { return s, s != "" }

func stamp(e *usageapi.Event) (string, bool) {
	if e == nil {
		return "", false
	}
	return e.At.UTC().Format(time.RFC3339Nano), true
}

var fileResource = resource[*fileState]{
	fields: fieldSet[*fileState]{
		"id":                       func(f *fileState) (string, bool) { return str(f.ID) },
		"name":                     func(f *fileState) (string, bool) { return opt(f.Name) },
		"external_id":              func(f *fileState) (string, bool) { return opt(f.ExternalID) },
		"status":                   func(f *fileState) (string, bool) { return str(string(f.Status)) },
		"environment":              func(f *fileState) (string, bool) { return str(string(f.Environment)) },
		"schema":                   func(f *fileState) (string, bool) { return str(string(f.Schema)) },
		"contract.id":              func(f *fileState) (string, bool) { return str(f.Contract.ID) },
		"contract.name":            func(f *fileState) (string, bool) { return opt(f.Contract.Name) },
		"distribution_contract_id": func(f *fileState) (string, bool) { return str(f.Contract.ID) },
		"marketplace.id":           func(f *fileState) (string, bool) { return str(f.Marketplace.ID) },
		"marketplace_id":           func(f *fileState) (string, bool) { return str(f.Marketplace.ID) },
		"marketplace.name":         func(f *fileState) (string, bool) { return opt(f.Marketplace.Name) },
		"product.id":               func(f *fileState) (string, bool) { return str(f.Product.ID) },
		"product_id":               func(f *fileState) (string, bool) { return str(f.Product.ID) },
		"product.name":             func(f *fileState) (string, bool) { return opt(f.Product.Name) },
		"provider.id":              func(f *fileState) (string, bool) { return str(f.Provider.ID) },
		"provider_id":              func(f *fileState) (string, bool) { return str(f.Provider.ID) },
		"provider.name":            func(f *fileState) (string, bool) { return opt(f.Provider.Name) },
		"vendor.id":                func(f *fileState) (string, bool) { return str(f.Vendor.ID) },
		"vendor_id":                func(f *fileState) (string, bool) { return str(f.Vendor.ID) },
		"vendor.name":              func(f *fileState) (string, bool) { return opt(f.Vendor.Name) },
		"created.at":               func(f *fileState) (string, bool) { return stamp(f.Events.Created) },
	},
	searchable: []string{"id", "name", "external_id", "contract.id", "contract.name", "marketplace.id",
		"marketplace.name", "product.id", "product.name", "provider.id", "provider.name", "vendor.id", "vendor.name",
		"environment", "schema"},
}

var recordResource = resource[*recordState]{
	fields: fieldSet[*recordState]{
		"id":                       func(r *recordState) (string, bool) { return str(r.ID) },
		"asset.id":                 func(r *recordState) (string, bool) { return str(r.Asset.ID) },
		"asset_id":                 func(r *recordState) (string, bool) { return str(r.Asset.ID) },
		"asset.external_id":        func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) },
		"asset_external_id":        func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) },
		"asset.external_uid":       func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) },
		"asset_external_uid":       func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) },
		"item.id":                  func(r *recordState) (string, bool) { return str(r.Item.ID) },
		"item_id":                  func(r *recordState) (string, bool) { return str(r.Item.ID) },
		"product.id":               func(r *recordState) (string, bool) { return str(r.ProductID) },
		"product_id":               func(r *recordState) (string, bool) { return str(r.ProductID) },
		"hub.id":                   func(r *recordState) (string, bool) { return opt(r.Hub) },
		"part_usage_file__hub__id": func(r *recordState) (string, bool) { return opt(r.Hub) },
		"status":                   func(r *recordState) (string, bool) { return str(string(r.Status)) },
		"usagefile.id":             func(r *recordState) (string, bool) { return str(r.FileID) },
		"usage_file":               func(r *recordState) (string, bool) { return str(r.FileID) },
		"created_time":             func(r *recordState) (string, bool) { return timeText(r.Created) },
		"start_date":               func(r *recordState) (string, bool) { return timeText(r.Start) },
		"usage_start_time":         func(r *recordState) (string, bool) { return timeText(r.Start) },
		"end_date":                 func(r *recordState) (string, bool) { return timeText(r.End) },
	},
	searchable: []string{"asset_id", "product_id", "usage_file", "usagefile.id"},
}

func timeText(t time.Time) (string, bool) { return t.UTC().Format(time.RFC3339Nano), !t.IsZero() }

var categoryResource = resource[usageapi.Category]{
	fields: fieldSet[usageapi.Category]{
		"id":   func(c usageapi.Category) (string, bool) { return str(c.ID) },
		"name": func(c usageapi.Category) (string, bool) { return str(c.Name) },
	},
	searchable: []string{"id", "name"},
}

// chunkView is a chunk with its file, for filtering and rendering.
type chunkView struct {
	c *chunkState
	f *fileState
}

var chunkResource = resource[chunkView]{
	fields: fieldSet[chunkView]{
		"id":             func(v chunkView) (string, bool) { return str(v.c.ID) },
		"status":         func(v chunkView) (string, bool) { return str(string(v.c.Status)) },
		"binding.hub.id": func(v chunkView) (string, bool) { return str(v.c.Hub.ID) },
		"provider.id":    func(v chunkView) (string, bool) { return str(v.f.Provider.ID) },
		"usagefile.id":   func(v chunkView) (string, bool) { return str(v.f.ID) },
	},
	searchable: []string{"id", "binding.hub.id", "provider.id", "usagefile.id"},
}

// reconView is a reconciliation with its file and chunk (either may be nil).
type reconView struct {
	r *reconState
	f *fileState
	c *chunkState
}

var reconResource = resource[reconView]{
	fields: fieldSet[reconView]{
		"id":           func(v reconView) (string, bool) { return str(v.r.ID) },
		"usagefile.id": func(v reconView) (string, bool) { return opt(v.r.FileID) },
		"partusagefile.id": func(v reconView) (string, bool) {
			return opt(v.r.ChunkID)
		},
		"partusagefile.provider.id": func(v reconView) (string, bool) {
			if v.f == nil {
				return "", false
			}
			return str(v.f.Provider.ID)
		},
		"binding.hub.id": func(v reconView) (string, bool) {
			if v.c == nil {
				return "", false
			}
			return str(v.c.Hub.ID)
		},
	},
	searchable: []string{"partusagefile.id", "usagefile.id", "binding.hub.id"},
}

var ruleResource = resource[*ruleState]{
	fields: fieldSet[*ruleState]{
		"id":        func(r *ruleState) (string, bool) { return str(r.ID) },
		"action":    func(r *ruleState) (string, bool) { return str(string(r.Action)) },
		"scope":     func(r *ruleState) (string, bool) { return str(string(r.Scope)) },
		"status":    func(r *ruleState) (string, bool) { return str(string(r.Status)) },
		"rule":      func(r *ruleState) (string, bool) { return opt(r.Rule) },
		"item.id":   func(r *ruleState) (string, bool) { return opt(r.Item.ID) },
		"item.name": func(r *ruleState) (string, bool) { return opt(r.Item.Name) },
	},
	searchable: []string{"id", "action", "item.id", "item.name", "rule", "scope", "status"},
}

// aggregate is one (asset, item) sum of usage records.
type aggregate struct {
	out      usageapi.Aggregate
	itemType string
	localID  string
	lastSeen time.Time
}

var aggregateResource = resource[*aggregate]{
	fields: fieldSet[*aggregate]{
		"asset.id":           func(a *aggregate) (string, bool) { return str(a.out.Asset.ID) },
		"asset.external_uid": func(a *aggregate) (string, bool) { return opt(a.out.Asset.ExternalUID) },
		"item.id":            func(a *aggregate) (string, bool) { return str(a.out.Item.ID) },
		"item.local_id":      func(a *aggregate) (string, bool) { return opt(a.localID) },
		"item.type":          func(a *aggregate) (string, bool) { return str(a.itemType) },
	},
	searchable: []string{"asset.id", "asset.external_uid", "item.id", "item.local_id", "item.type"},
}
