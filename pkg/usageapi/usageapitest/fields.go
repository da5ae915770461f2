package usageapitest

import (
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// The filterable fields of each list endpoint, with their lookups and search and ordering flags, as the
// spec's parameter descriptions give them (aliases included). A query naming any other field is answered
// 400 RQL_001, although django-rql ignores unknown filters: a filter the real service would drop silently
// (and answer with every object) is a mistake the emulator makes visible.

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

var fileResource = resource[*fileState]{fields: fieldSet[*fileState]{
	"id":                       textField(func(f *fileState) (string, bool) { return str(f.ID) }).searchable().orderable(),
	"name":                     textField(func(f *fileState) (string, bool) { return opt(f.Name) }).searchable(),
	"external_id":              textField(func(f *fileState) (string, bool) { return opt(f.ExternalID) }).searchable(),
	"status":                   choiceField(func(f *fileState) (string, bool) { return str(string(f.Status)) }, choiceLookups, fileStatuses...).orderable(),
	"environment":              choiceField(func(f *fileState) (string, bool) { return str(string(f.Environment)) }, choiceLookups, environments...).searchable().orderable(),
	"schema":                   choiceField(func(f *fileState) (string, bool) { return str(string(f.Schema)) }, choiceLookups, schemas...).searchable().orderable(),
	"contract.id":              textField(func(f *fileState) (string, bool) { return str(f.Contract.ID) }).searchable(),
	"contract.name":            textField(func(f *fileState) (string, bool) { return opt(f.Contract.Name) }).searchable().orderable(),
	"distribution_contract_id": textField(func(f *fileState) (string, bool) { return str(f.Contract.ID) }).searchable(),
	"marketplace.id":           textField(func(f *fileState) (string, bool) { return str(f.Marketplace.ID) }).searchable(),
	"marketplace_id":           textField(func(f *fileState) (string, bool) { return str(f.Marketplace.ID) }).searchable(),
	"marketplace.name":         textField(func(f *fileState) (string, bool) { return opt(f.Marketplace.Name) }).searchable().orderable(),
	"product.id":               textField(func(f *fileState) (string, bool) { return str(f.Product.ID) }).searchable(),
	"product_id":               textField(func(f *fileState) (string, bool) { return str(f.Product.ID) }).searchable(),
	"product.name":             textField(func(f *fileState) (string, bool) { return opt(f.Product.Name) }).searchable().orderable(),
	"provider.id":              textField(func(f *fileState) (string, bool) { return str(f.Provider.ID) }).searchable(),
	"provider_id":              textField(func(f *fileState) (string, bool) { return str(f.Provider.ID) }).searchable(),
	"provider.name":            textField(func(f *fileState) (string, bool) { return opt(f.Provider.Name) }).searchable().orderable(),
	"vendor.id":                textField(func(f *fileState) (string, bool) { return str(f.Vendor.ID) }).searchable(),
	"vendor_id":                textField(func(f *fileState) (string, bool) { return str(f.Vendor.ID) }).searchable(),
	"vendor.name":              textField(func(f *fileState) (string, bool) { return opt(f.Vendor.Name) }).searchable().orderable(),
	"created.at":               instantField(func(f *fileState) (string, bool) { return stamp(f.Events.Created) }, rangeLookups).orderable(),
}}

var recordResource = resource[*recordState]{fields: fieldSet[*recordState]{
	"asset.id":                 textField(func(r *recordState) (string, bool) { return str(r.Asset.ID) }),
	"asset_id":                 textField(func(r *recordState) (string, bool) { return str(r.Asset.ID) }).searchable(),
	"asset.external_id":        textField(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) }),
	"asset_external_id":        textField(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) }),
	"asset.external_uid":       textField(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) }),
	"asset_external_uid":       textField(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) }),
	"item.id":                  textField(func(r *recordState) (string, bool) { return str(r.Item.ID) }),
	"item_id":                  textField(func(r *recordState) (string, bool) { return str(r.Item.ID) }),
	"product.id":               textField(func(r *recordState) (string, bool) { return str(r.ProductID) }),
	"product_id":               textField(func(r *recordState) (string, bool) { return str(r.ProductID) }).searchable(),
	"hub.id":                   textField(func(r *recordState) (string, bool) { return opt(r.Hub) }),
	"part_usage_file__hub__id": textField(func(r *recordState) (string, bool) { return opt(r.Hub) }),
	"status":                   choiceField(func(r *recordState) (string, bool) { return str(string(r.Status)) }, textLookups, recordStatuses...).orderable(),
	"usagefile.id":             textField(func(r *recordState) (string, bool) { return str(r.FileID) }).searchable(),
	"usage_file":               textField(func(r *recordState) (string, bool) { return str(r.FileID) }).searchable(),
	"usagefile.schema":         choiceField(func(r *recordState) (string, bool) { return str(string(r.Schema)) }, choiceLookups, schemas...).searchable(),
	"created_time":             instantField(func(r *recordState) (string, bool) { return timeText(r.Created) }, instantLookups).orderable(),
	"start_date":               instantField(func(r *recordState) (string, bool) { return timeText(r.Start) }, instantLookups),
	"usage_start_time":         instantField(func(r *recordState) (string, bool) { return timeText(r.Start) }, instantLookups).orderable(),
	"end_date":                 instantField(func(r *recordState) (string, bool) { return timeText(r.End) }, instantLookups),
}}

func timeText(t time.Time) (string, bool) { return t.UTC().Format(time.RFC3339Nano), !t.IsZero() }

var categoryResource = resource[usageapi.Category]{fields: fieldSet[usageapi.Category]{
	"id":   choiceField[usageapi.Category, string](func(c usageapi.Category) (string, bool) { return str(c.ID) }, choiceLookups).searchable(),
	"name": choiceField[usageapi.Category, string](func(c usageapi.Category) (string, bool) { return str(c.Name) }, choiceLookups).searchable().orderable(),
}}

// chunkView is a chunk with its file, for filtering and rendering.
type chunkView struct {
	c *chunkState
	f *fileState
}

var chunkResource = resource[chunkView]{fields: fieldSet[chunkView]{
	"id":             textField(func(v chunkView) (string, bool) { return str(v.c.ID) }).searchable(),
	"status":         choiceField(func(v chunkView) (string, bool) { return str(string(v.c.Status)) }, choiceLookups, chunkStatuses...),
	"binding.hub.id": textField(func(v chunkView) (string, bool) { return str(v.c.Hub.ID) }).searchable(),
	"provider.id":    textField(func(v chunkView) (string, bool) { return str(v.f.Provider.ID) }).searchable(),
	"usagefile.id":   textField(func(v chunkView) (string, bool) { return str(v.f.ID) }).searchable().orderable(),
}}

// reconView is a reconciliation with its file and chunk (either may be nil).
type reconView struct {
	r *reconState
	f *fileState
	c *chunkState
}

var reconResource = resource[reconView]{fields: fieldSet[reconView]{
	"usagefile.id":              textField(func(v reconView) (string, bool) { return opt(v.r.FileID) }).searchable().orderable(),
	"partusagefile.id":          textField(func(v reconView) (string, bool) { return opt(v.r.ChunkID) }).searchable().orderable(),
	"partusagefile.provider.id": textField(reconProvider).searchable(),
	"binding.hub.id":            textField(reconHub).searchable(),
}}

func reconProvider(v reconView) (string, bool) {
	if v.f == nil {
		return "", false
	}
	return str(v.f.Provider.ID)
}

func reconHub(v reconView) (string, bool) {
	if v.c == nil {
		return "", false
	}
	return str(v.c.Hub.ID)
}

var ruleResource = resource[*ruleState]{fields: fieldSet[*ruleState]{
	"id":        textField(func(r *ruleState) (string, bool) { return str(r.ID) }).searchable(),
	"action":    choiceField(func(r *ruleState) (string, bool) { return str(string(r.Action)) }, choiceLookups, ruleActions...).searchable(),
	"scope":     choiceField(func(r *ruleState) (string, bool) { return str(string(r.Scope)) }, choiceLookups, ruleScopes...).searchable(),
	"status":    choiceField(func(r *ruleState) (string, bool) { return str(string(r.Status)) }, choiceLookups, ruleStatuses...).searchable(),
	"rule":      textField(func(r *ruleState) (string, bool) { return opt(r.Rule) }).searchable(),
	"item.id":   textField(func(r *ruleState) (string, bool) { return opt(r.Item.ID) }).searchable().orderable(),
	"item.name": textField(func(r *ruleState) (string, bool) { return opt(r.Item.Name) }).searchable(),
}}

// aggregate is one (asset, item) sum of usage records.
type aggregate struct {
	out      usageapi.Aggregate
	itemType string
	localID  string
	lastSeen time.Time
}

var aggregateResource = resource[*aggregate]{fields: fieldSet[*aggregate]{
	"asset.id":           textField(func(a *aggregate) (string, bool) { return str(a.out.Asset.ID) }).searchable(),
	"asset.external_uid": textField(func(a *aggregate) (string, bool) { return opt(a.out.Asset.ExternalUID) }).searchable(),
	"item.id":            textField(func(a *aggregate) (string, bool) { return str(a.out.Item.ID) }).searchable(),
	"item.local_id":      textField(func(a *aggregate) (string, bool) { return opt(a.localID) }).searchable(),
	"item.type":          choiceField(func(a *aggregate) (string, bool) { return str(a.itemType) }, choiceLookups, itemTypes...).searchable(),
}}
