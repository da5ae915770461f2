package connectemu

import (
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu/rql"
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

var fileResource = rql.Resource[*fileState]{
	"id":                       rql.Text(func(f *fileState) (string, bool) { return str(f.ID) }).Searchable().Orderable(),
	"name":                     rql.Text(func(f *fileState) (string, bool) { return opt(f.Name) }).Searchable(),
	"external_id":              rql.Text(func(f *fileState) (string, bool) { return opt(f.ExternalID) }).Searchable(),
	"status":                   rql.Choice(func(f *fileState) (string, bool) { return str(string(f.Status)) }, rql.ChoiceLookups, fileStatuses...).Orderable(),
	"environment":              rql.Choice(func(f *fileState) (string, bool) { return str(string(f.Environment)) }, rql.ChoiceLookups, environments...).Searchable().Orderable(),
	"schema":                   rql.Choice(func(f *fileState) (string, bool) { return str(string(f.Schema)) }, rql.ChoiceLookups, schemas...).Searchable().Orderable(),
	"contract.id":              rql.Text(func(f *fileState) (string, bool) { return str(f.Contract.ID) }).Searchable(),
	"contract.name":            rql.Text(func(f *fileState) (string, bool) { return opt(f.Contract.Name) }).Searchable().Orderable(),
	"distribution_contract_id": rql.Text(func(f *fileState) (string, bool) { return str(f.Contract.ID) }).Searchable(),
	"marketplace.id":           rql.Text(func(f *fileState) (string, bool) { return str(f.Marketplace.ID) }).Searchable(),
	"marketplace_id":           rql.Text(func(f *fileState) (string, bool) { return str(f.Marketplace.ID) }).Searchable(),
	"marketplace.name":         rql.Text(func(f *fileState) (string, bool) { return opt(f.Marketplace.Name) }).Searchable().Orderable(),
	"product.id":               rql.Text(func(f *fileState) (string, bool) { return str(f.Product.ID) }).Searchable(),
	"product_id":               rql.Text(func(f *fileState) (string, bool) { return str(f.Product.ID) }).Searchable(),
	"product.name":             rql.Text(func(f *fileState) (string, bool) { return opt(f.Product.Name) }).Searchable().Orderable(),
	"provider.id":              rql.Text(func(f *fileState) (string, bool) { return str(f.Provider.ID) }).Searchable(),
	"provider_id":              rql.Text(func(f *fileState) (string, bool) { return str(f.Provider.ID) }).Searchable(),
	"provider.name":            rql.Text(func(f *fileState) (string, bool) { return opt(f.Provider.Name) }).Searchable().Orderable(),
	"vendor.id":                rql.Text(func(f *fileState) (string, bool) { return str(f.Vendor.ID) }).Searchable(),
	"vendor_id":                rql.Text(func(f *fileState) (string, bool) { return str(f.Vendor.ID) }).Searchable(),
	"vendor.name":              rql.Text(func(f *fileState) (string, bool) { return opt(f.Vendor.Name) }).Searchable().Orderable(),
	"created.at":               rql.Instant(func(f *fileState) (string, bool) { return stamp(f.Events.Created) }, rql.RangeLookups).Orderable(),
}

var recordResource = rql.Resource[*recordState]{
	"asset.id":                 rql.Text(func(r *recordState) (string, bool) { return str(r.Asset.ID) }),
	"asset_id":                 rql.Text(func(r *recordState) (string, bool) { return str(r.Asset.ID) }).Searchable(),
	"asset.external_id":        rql.Text(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) }),
	"asset_external_id":        rql.Text(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalID) }),
	"asset.external_uid":       rql.Text(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) }),
	"asset_external_uid":       rql.Text(func(r *recordState) (string, bool) { return opt(r.Asset.ExternalUID) }),
	"item.id":                  rql.Text(func(r *recordState) (string, bool) { return str(r.Item.ID) }),
	"item_id":                  rql.Text(func(r *recordState) (string, bool) { return str(r.Item.ID) }),
	"product.id":               rql.Text(func(r *recordState) (string, bool) { return str(r.ProductID) }),
	"product_id":               rql.Text(func(r *recordState) (string, bool) { return str(r.ProductID) }).Searchable(),
	"hub.id":                   rql.Text(func(r *recordState) (string, bool) { return opt(r.Hub) }),
	"part_usage_file__hub__id": rql.Text(func(r *recordState) (string, bool) { return opt(r.Hub) }),
	"status":                   rql.Choice(func(r *recordState) (string, bool) { return str(string(r.Status)) }, rql.TextLookups, recordStatuses...).Orderable(),
	"usagefile.id":             rql.Text(func(r *recordState) (string, bool) { return str(r.FileID) }).Searchable(),
	"usage_file":               rql.Text(func(r *recordState) (string, bool) { return str(r.FileID) }).Searchable(),
	"usagefile.schema":         rql.Choice(func(r *recordState) (string, bool) { return str(string(r.Schema)) }, rql.ChoiceLookups, schemas...).Searchable(),
	"created_time":             rql.Instant(func(r *recordState) (string, bool) { return timeText(r.Created) }, rql.InstantLookups).Orderable(),
	"start_date":               rql.Instant(func(r *recordState) (string, bool) { return timeText(r.Start) }, rql.InstantLookups),
	"usage_start_time":         rql.Instant(func(r *recordState) (string, bool) { return timeText(r.Start) }, rql.InstantLookups).Orderable(),
	"end_date":                 rql.Instant(func(r *recordState) (string, bool) { return timeText(r.End) }, rql.InstantLookups),
}

func timeText(t time.Time) (string, bool) { return t.UTC().Format(time.RFC3339Nano), !t.IsZero() }

var categoryResource = rql.Resource[usageapi.Category]{
	"id":   rql.Choice[usageapi.Category, string](func(c usageapi.Category) (string, bool) { return str(c.ID) }, rql.ChoiceLookups).Searchable(),
	"name": rql.Choice[usageapi.Category, string](func(c usageapi.Category) (string, bool) { return str(c.Name) }, rql.ChoiceLookups).Searchable().Orderable(),
}

// chunkView is a chunk with its file, for filtering and rendering.
type chunkView struct {
	c *chunkState
	f *fileState
}

var chunkResource = rql.Resource[chunkView]{
	"id":             rql.Text(func(v chunkView) (string, bool) { return str(v.c.ID) }).Searchable(),
	"status":         rql.Choice(func(v chunkView) (string, bool) { return str(string(v.c.Status)) }, rql.ChoiceLookups, chunkStatuses...),
	"binding.hub.id": rql.Text(func(v chunkView) (string, bool) { return str(v.c.Hub.ID) }).Searchable(),
	"provider.id":    rql.Text(func(v chunkView) (string, bool) { return str(v.f.Provider.ID) }).Searchable(),
	"usagefile.id":   rql.Text(func(v chunkView) (string, bool) { return str(v.f.ID) }).Searchable().Orderable(),
}

// reconView is a reconciliation with its file and chunk (either may be nil).
type reconView struct {
	r *reconState
	f *fileState
	c *chunkState
}

var reconResource = rql.Resource[reconView]{
	"usagefile.id":              rql.Text(func(v reconView) (string, bool) { return opt(v.r.FileID) }).Searchable().Orderable(),
	"partusagefile.id":          rql.Text(func(v reconView) (string, bool) { return opt(v.r.ChunkID) }).Searchable().Orderable(),
	"partusagefile.provider.id": rql.Text(reconProvider).Searchable(),
	"binding.hub.id":            rql.Text(reconHub).Searchable(),
}

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

var ruleResource = rql.Resource[*ruleState]{
	"id":        rql.Text(func(r *ruleState) (string, bool) { return str(r.ID) }).Searchable(),
	"action":    rql.Choice(func(r *ruleState) (string, bool) { return str(string(r.Action)) }, rql.ChoiceLookups, ruleActions...).Searchable(),
	"scope":     rql.Choice(func(r *ruleState) (string, bool) { return str(string(r.Scope)) }, rql.ChoiceLookups, ruleScopes...).Searchable(),
	"status":    rql.Choice(func(r *ruleState) (string, bool) { return str(string(r.Status)) }, rql.ChoiceLookups, ruleStatuses...).Searchable(),
	"rule":      rql.Text(func(r *ruleState) (string, bool) { return opt(r.Rule) }).Searchable(),
	"item.id":   rql.Text(func(r *ruleState) (string, bool) { return opt(r.Item.ID) }).Searchable().Orderable(),
	"item.name": rql.Text(func(r *ruleState) (string, bool) { return opt(r.Item.Name) }).Searchable(),
}

// aggregate is one (asset, item) sum of usage records.
type aggregate struct {
	out      usageapi.Aggregate
	itemType string
	localID  string
	lastSeen time.Time
}

var aggregateResource = rql.Resource[*aggregate]{
	"asset.id":           rql.Text(func(a *aggregate) (string, bool) { return str(a.out.Asset.ID) }).Searchable(),
	"asset.external_uid": rql.Text(func(a *aggregate) (string, bool) { return opt(a.out.Asset.ExternalUID) }).Searchable(),
	"item.id":            rql.Text(func(a *aggregate) (string, bool) { return str(a.out.Item.ID) }).Searchable(),
	"item.local_id":      rql.Text(func(a *aggregate) (string, bool) { return opt(a.localID) }).Searchable(),
	"item.type":          rql.Choice(func(a *aggregate) (string, bool) { return str(a.itemType) }, rql.ChoiceLookups, itemTypes...).Searchable(),
}
