package connectemu

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// Processing of an uploaded workbook runs in the background in two steps: uploading → processing at once,
// then, ProcessingDelay later, the records are validated against the catalog and the file becomes ready
// (every row stored as a valid record) or invalid (every row stored as an invalid record, as Connect's
// record statuses have it; none when the workbook as a whole cannot be read), with a processed workbook
// either way. A step whose file was uploaded again meanwhile (another generation) does nothing.

// scheduleProcessingLocked schedules the processing of f's current upload.
func (e *Emulator) scheduleProcessingLocked(f *fileState) {
	id, gen := f.ID, f.Generation
	e.scheduleLocked(0, func() { e.beginProcessing(id, gen) })
}

func (e *Emulator) beginProcessing(id string, gen int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.st.fileByID[id]
	if f == nil || f.Generation != gen || f.Status != usageapi.FileStatusUploading {
		return
	}
	f.Status = usageapi.FileStatusProcessing
	e.scheduleLocked(e.opts.ProcessingDelay, func() { e.finishProcessing(id, gen) })
}

// processingJob is what finishProcessing needs from the store, copied under the lock.
type processingJob struct {
	file     fileState
	upload   []byte
	workbook *usagefile.Workbook // upload as read when it was uploaded; nil: read it again
	catalog  *Catalog
	index    *catalogIndex // of catalog
}

// maxKeptWorkbooks bounds the workbooks kept between their upload and their processing (Emulator.parsed):
// a read workbook takes several times the memory of its upload, and a file processed without one reads its
// upload again.
const maxKeptWorkbooks = 16

// parsedUpload is the workbook of a file's upload generation, as read when it was uploaded.
type parsedUpload struct {
	generation int
	workbook   *usagefile.Workbook
}

// keepWorkbookLocked keeps the workbook read from f's current upload for its processing, while there is room.
func (e *Emulator) keepWorkbookLocked(f *fileState, wb *usagefile.Workbook) {
	if _, ok := e.parsed[f.ID]; ok || len(e.parsed) < maxKeptWorkbooks {
		e.parsed[f.ID] = parsedUpload{generation: f.Generation, workbook: wb}
	}
}

// takeWorkbookLocked returns and forgets the workbook read from f's current upload, if it was kept.
func (e *Emulator) takeWorkbookLocked(f *fileState) *usagefile.Workbook {
	p, ok := e.parsed[f.ID]
	if !ok || p.generation != f.Generation {
		return nil
	}
	delete(e.parsed, f.ID)
	return p.workbook
}

func (e *Emulator) finishProcessing(id string, gen int) {
	e.mu.Lock()
	f := e.st.fileByID[id]
	if f == nil || f.Generation != gen || f.Status != usageapi.FileStatusProcessing {
		e.mu.Unlock()
		return
	}
	job := processingJob{file: *f, upload: e.st.blobs[f.Upload], workbook: e.takeWorkbookLocked(f),
		catalog: e.st.catalog, index: e.st.catalogIndex()}
	e.mu.Unlock()

	res := e.validate(job)
	processed, err := writeProcessed(&job.file, res)

	e.mu.Lock()
	f = e.st.fileByID[id]
	if f != nil && f.Generation == gen && f.Status == usageapi.FileStatusProcessing {
		e.commitProcessingLocked(f, res, processed, err)
	}
	e.mu.Unlock()
	e.logBackground("processing", id, err)
	e.logBackground("persist", id, e.persist())
}

// commitProcessingLocked stores the outcome of processing f.
func (e *Emulator) commitProcessingLocked(f *fileState, res validation, processed []byte, err error) {
	f.Counts = usageapi.RecordCounts{Valid: res.valid(), Invalid: res.invalid}
	f.Uploaded = len(res.rows)
	f.Categories = res.categories
	if len(res.newAssets) > 0 {
		e.st.mergeCatalog(&Catalog{Assets: res.newAssets})
	}
	if err == nil {
		f.Processed = e.st.putBlob(processed)
	}
	status := usageapi.RecordStatusValid
	switch {
	case res.fatal != "":
		f.Status, f.ErrorDetail = usageapi.FileStatusInvalid, clipText(res.fatal, 200)
	case res.invalid > 0 || err != nil:
		f.Status, status = usageapi.FileStatusInvalid, usageapi.RecordStatusInvalid
		f.ErrorDetail = clipText(fmt.Sprintf("%d of %d records are invalid: %s", res.invalid, len(res.rows), res.firstError()), 200)
	default:
		f.Status, f.ErrorDetail = usageapi.FileStatusReady, ""
	}
	for _, r := range res.records {
		r.ID, r.Status = e.newIDLocked(prefixRec, r.Created), status
		e.st.addRecord(r)
	}
	e.recountLocked(f)
}

// writeProcessed writes the processed workbook of a validation: general attributes, categories, and every
// row with its status and error.
func writeProcessed(f *fileState, res validation) ([]byte, error) {
	var buf bytes.Buffer
	status := usagefile.StatusValid
	if res.invalid > 0 || res.fatal != "" {
		status = usagefile.StatusInvalid
	}
	opts := usagefile.ProcessedOptions{General: generalAttributes(f, status, res), Categories: res.sheetCategories, ParamColumns: res.params}
	err := usagefile.WriteProcessed(&buf, opts, slices.Values(res.rows))
	if err != nil {
		return nil, fmt.Errorf("write processed workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// generalAttributes are the rows of the processed workbook's general sheet, in Connect's order and
// spelling (usage_schema QT, TR, CR or PR, as Connect writes it, where the API's schema field is lower case).
func generalAttributes(f *fileState, status string, res validation) []usagefile.Attribute {
	from, to := "", ""
	if !f.Period.From.IsZero() {
		from, to = f.Period.From.String()+" 00:00:00", f.Period.To.String()+" 23:59:59"
	}
	attrs := [][2]string{
		{"report_name", f.Name}, {"report_note", f.Note}, {"report_id", f.ID}, {"status", status},
		{"report_start_time_utc", from}, {"report_end_time_utc", to},
		{"valid_records", fmt.Sprint(res.valid())}, {"invalid_records", fmt.Sprint(res.invalid)},
		{"usage_schema", strings.ToUpper(string(f.Schema))}, {"currency", f.Currency},
		{"product_id", f.Product.ID}, {"product_name", f.Product.Name},
		{"marketplace_id", f.Marketplace.ID}, {"marketplace_name", f.Marketplace.Name},
		{"vendor_account_id", f.Vendor.ID}, {"vendor_account_name", f.Vendor.Name},
		{"provider_account_id", f.Provider.ID}, {"provider_account_name", f.Provider.Name},
		{"distribution_contract_id", f.Contract.ID}, {"distribution_contract_name", f.Contract.Name},
	}
	out := make([]usagefile.Attribute, len(attrs))
	for i, a := range attrs {
		out[i] = usagefile.Attribute{ID: a[0], Value: a[1]}
	}
	return out
}

// clipText cuts s to at most n characters.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
