package connectemu

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// validation is the outcome of processing one uploaded workbook.
type validation struct {
	rows            []usagefile.ProcessedRecord // every row, with its status and error
	records         []*recordState              // every row as a record (ids and status not yet assigned)
	invalid         int
	fatal           string // the workbook as a whole could not be processed
	categories      []usageapi.Category
	sheetCategories []usagefile.Category
	params          []string       // extra columns of the records sheet
	newAssets       []CatalogAsset // assets made up for unknown subscriptions (Options.AutoAssets)
}

func (v validation) valid() int { return len(v.rows) - v.invalid }

// firstError is the error of the first invalid row.
func (v validation) firstError() string {
	for _, r := range v.rows {
		if r.Error != "" {
			return fmt.Sprintf("row %s: %s", r.RecordID, r.Error)
		}
	}
	return ""
}

// validate checks every row of job's workbook (read again from the upload when the one read at upload is
// not kept) against the catalog: the reader's own problems (missing values, bad numbers, bad or reversed
// times, duplicate record ids), then unknown item or asset, more decimals than the item's precision, and
// unknown category.
func (e *Emulator) validate(job processingJob) validation {
	f := &job.file
	wb := job.workbook
	if wb == nil {
		var err error
		wb, err = usagefile.Read(bytes.NewReader(job.upload), usagefile.ReadOptions{Schema: events.Schema(strings.ToUpper(string(f.Schema)))})
		if err != nil {
			return validation{fatal: fmt.Sprintf("The usage workbook cannot be read: %v", err)}
		}
	}
	product, ok := job.catalog.product(f.Product.ID)
	if !ok {
		return validation{fatal: fmt.Sprintf("Product %s no longer exists.", f.Product.ID)}
	}
	v := newValidation(wb.Categories)
	assets := assetFinder(job.index.asset)
	if e.opts.AutoAssets {
		assets = v.autoAssets(job.index, f.Marketplace.ID)
	}
	hub, created := defaultHub(job.catalog, f.Marketplace.ID), e.now()
	params := map[string]bool{}
	for i := range wb.Records {
		rec := &wb.Records[i]
		for name := range rec.Params {
			params[name] = true
		}
		r, cells := checkRecord(assets, job.index, product, f, rec, v.categories)
		v.add(rec, cells)
		r.FileID, r.Created = f.ID, created
		r.Hub = firstNonEmpty(r.Hub, hub)
		v.records = append(v.records, r)
	}
	v.params = slices.Sorted(maps.Keys(params))
	return *v
}

// newValidation starts a validation with the workbook's categories (the default one when it has none).
func newValidation(cats []usagefile.Category) *validation {
	v := &validation{sheetCategories: cats}
	if len(v.sheetCategories) == 0 {
		v.sheetCategories = []usagefile.Category{usagefile.DefaultCategory}
	}
	for _, c := range v.sheetCategories {
		v.categories = append(v.categories, usageapi.Category{ID: c.ID, Name: c.Name, Description: c.Description})
	}
	return v
}

// add records the processed row of rec: valid, or invalid with its errors, both in the error column and as
// comments on the cells they are about (where Connect puts them).
func (v *validation) add(rec *usagefile.ReadRecord, cells []usagefile.CellError) {
	pr := usagefile.ProcessedRecord{Record: rec.Record, Status: usagefile.StatusValid}
	if len(cells) > 0 {
		pr.Status, pr.Error, pr.Cells = usagefile.StatusInvalid, errorText(cells), cells
		v.invalid++
	}
	v.rows = append(v.rows, pr)
}

// checkRecord checks one read row and returns it as a record (with the item and asset it names, when they
// are found) and the explanation of each invalid cell (none when the row is valid).
func checkRecord(assets assetFinder, items *catalogIndex, product *CatalogProduct, f *fileState, rec *usagefile.ReadRecord, cats []usageapi.Category) (*recordState, []usagefile.CellError) {
	var cells []usagefile.CellError
	for _, p := range rec.Problems {
		cells = append(cells, problemCell(p))
	}
	item, asset, more := resolveItemAsset(assets, items, product, f, rec)
	cells = append(cells, more...)
	if rec.CategoryID != "" && !slices.ContainsFunc(cats, func(c usageapi.Category) bool { return c.ID == rec.CategoryID }) {
		cells = append(cells, cellError(usagefile.ColCategoryID, "category %q is not in the categories sheet", rec.CategoryID))
	}
	if item != nil {
		cells = append(cells, checkPrecision(item, rec)...)
	}
	if len(cells) == 0 && (item == nil || asset == nil) {
		cells = append(cells, cellError("", "the row finds no item or no asset"))
	}
	return newRecord(item, asset, f, rec, cats), cells
}

// newRecord builds the stored record of a row; an item or asset the row names but the catalog lacks (nil)
// leaves its reference empty (the row is invalid).
func newRecord(item *CatalogItem, asset *CatalogAsset, f *fileState, rec *usagefile.ReadRecord, cats []usageapi.Category) *recordState {
	r := &recordState{
		RecordID: rec.RecordID, Note: rec.RecordNote, ProductID: f.Product.ID,
		AssetReconID: rec.AssetReconID,
		Category:     rec.CategoryID,
		Usage:        rec.Quantity.String(),
		Start:        rec.StartTimeUTC.UTC(),
		End:          rec.EndTimeUTC.UTC(),
	}
	if item != nil {
		r.Item = usageapi.RecordItem{ID: item.ID, LocalID: item.LocalID, Name: item.Name, Unit: item.Unit,
			MPN: item.MPN, Precision: item.Precision, Type: item.Type}
	}
	if asset != nil {
		r.Asset = usageapi.Asset{ID: asset.ID, ExternalID: asset.ExternalID, ExternalUID: asset.ExternalUID}
		r.AssetReconID, r.Hub = firstNonEmpty(rec.AssetReconID, asset.ReconID), asset.Hub
	}
	if r.Category == "" && len(cats) > 0 {
		r.Category = cats[0].ID
	}
	if rec.Amount != nil {
		r.Amount = rec.Amount.String()
	}
	if f.Schema == usageapi.SchemaTR {
		tier := rec.Tier
		r.Tier = &tier
	}
	for _, name := range slices.Sorted(maps.Keys(rec.Params)) {
		r.Params = append(r.Params, usageapi.RecordParameter{ParameterName: name, ParameterValue: rec.Params[name]})
	}
	return r
}

// defaultHub is the first hub of a marketplace, or a placeholder when the catalog names none.
func defaultHub(cat *Catalog, marketplace string) string {
	if m, ok := cat.marketplace(marketplace); ok && len(m.Hubs) > 0 {
		return m.Hubs[0].ID
	}
	return "HB-0000-0000"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
