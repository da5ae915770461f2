package connectemu

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// The render functions turn stored objects into the usageapi types the client decodes, so client and
// emulator share one definition of the wire format. They run under e.mu and copy what they need.

// fileList renders f as a list item (usage.UsageFileList): no detail-only fields.
func fileList(f *fileState) usageapi.File {
	period := f.Period
	stats := f.Stats
	vendor, provider, market, contract, product := f.Vendor, f.Provider, f.Marketplace, f.Contract, f.Product
	events := f.Events
	return usageapi.File{
		ID: f.ID, Name: f.Name, ExternalID: f.ExternalID, Status: f.Status,
		Vendor: &vendor, Provider: &provider, Environment: f.Environment, Marketplace: &market,
		Contract: &contract, Product: &product, ErrorDetail: f.ErrorDetail, Description: f.Description,
		AcceptanceNote: f.AcceptanceNote, RejectionNote: f.RejectionNote, Schema: f.Schema,
		Currency: f.Currency, Period: &period, Stats: &stats, Events: &events,
	}
}

// fileDetail renders f as GET /usage/files/{id} does: the list fields plus sub_status, the signed links to
// the uploaded, processed and reconciliation workbooks, and the record counts.
func (e *Emulator) fileDetail(f *fileState, base string) usageapi.FileDetail {
	d := usageapi.FileDetail{File: fileList(f)}
	counts := f.Counts
	switch {
	case f.Status == usageapi.FileStatusUploading || f.Status == usageapi.FileStatusProcessing:
		d.SubStatus = usageapi.FileSubStatusProcessing
	case f.Processed != "":
		d.SubStatus = usageapi.FileSubStatusProcessed
		d.Records = &counts
	}
	if f.Upload != "" {
		d.UsageFileURI = e.signedURL(base, f.Product.ID, f.ID, kindUploaded)
	}
	if f.Processed != "" {
		d.ProcessedFileURI = e.signedURL(base, f.Product.ID, f.ID, kindProcessed)
	}
	if f.Recon != "" {
		d.ReconciliationFileURI = e.signedURL(base, f.Product.ID, f.ID, kindReconciliation)
	}
	return d
}

// fileCreated renders the 201 answer of POST /usage/files: the spec's flat usage.UsageFileCreate (plus the
// status), or the nested detail shape when Options.NestedCreateAnswer is set.
func (e *Emulator) fileCreated(f *fileState, base string) any {
	if e.opts.NestedCreateAnswer {
		return e.fileDetail(f, base)
	}
	c := usageapi.FileCreated{
		ID: f.ID, Name: f.Name, ExternalID: f.ExternalID, Status: f.Status, Vendor: f.Vendor.ID,
		Provider: f.Provider.ID, Environment: f.Environment, Marketplace: f.Marketplace.ID,
		DistributionContract: f.Contract.ID, ProductID: f.Product.ID, ProductName: f.Product.Name,
		ProductIcon: f.Product.Icon, Description: f.Description, Schema: f.Schema, Currency: f.Currency,
	}
	if !f.Period.From.IsZero() {
		from, to := f.Period.From.Time(), f.Period.To.Time().Add(24*time.Hour-time.Second)
		c.StartDatetimeUTC, c.EndDatetimeUTC = &from, &to
	}
	return c
}

// record renders a usage record.
func (e *Emulator) record(r *recordState) usageapi.Record {
	item, asset := r.Item, r.Asset
	out := usageapi.Record{
		ID: r.ID, Usage: json.Number(r.Usage), Amount: json.Number(r.Amount), Multiplier: 1,
		Tier: r.Tier, Status: r.Status, Item: &item, Asset: &asset, Params: r.Params,
		StartDate: r.Start, EndDate: r.End, ProductID: r.ProductID,
		ExternalBillingID: r.ExternalBillingID, ExternalBillingNote: r.ExternalBillingNote,
		ClosedAt: r.ClosedAt, ClosedBy: r.ClosedBy, ItemID: r.Item.ID, AssetID: r.Asset.ID,
		ResourceLocalID: r.Item.LocalID, AssetExternalID: r.Asset.ExternalID, AssetExternalUID: r.Asset.ExternalUID,
	}
	if r.Category != "" {
		out.Category = &usageapi.RecordCategory{ID: r.Category}
		if f := e.st.fileByID[r.FileID]; f != nil {
			for _, c := range f.Categories {
				if c.ID == r.Category {
					out.Category = &usageapi.RecordCategory{ID: c.ID, Name: c.Name, Description: c.Description}
				}
			}
		}
	}
	if f := e.st.fileByID[r.FileID]; f != nil {
		out.UsageFile = f.ref()
	}
	return out
}

// baseURL is the scheme and host the client reached the emulator at, for absolute download links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
