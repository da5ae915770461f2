package connectemu

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/xuri/excelize/v2"
)

// Reconciliations: the provider uploads a workbook giving, for records of an accepted file, the external
// billing id and note; processing closes those records, and the file once all of its records are closed.
// The format is not documented; the emulator reads the first sheet named records (else the first sheet)
// with a header naming the record by usage_record_id or id (UR-…) or, for a file-scoped upload, by
// record_id, plus external_billing_id and external_billing_note.

// createReconLocked stores a reconciliation upload (of fileID, or to be located by its record ids) and
// schedules its processing.
func (e *Emulator) createReconLocked(fileID string, data []byte, note string) *reconState {
	t := e.now()
	r := &reconState{
		ID: e.newIDLocked(prefixRecon, t), FileID: fileID, Status: usageapi.ReconciliationStatusUploaded,
		UploadNote: note, Upload: e.st.putBlob(data), Events: usageapi.Events{Created: event(t, nil), Uploaded: event(t, nil)},
	}
	e.st.addRecon(r)
	id := r.ID
	e.scheduleLocked(e.opts.ProcessingDelay, func() { e.processRecon(id) })
	return r
}

// reconRow is one row of a reconciliation workbook.
type reconRow struct {
	urID, recordID, billingID, billingNote string
}

func (e *Emulator) processRecon(id string) {
	e.mu.Lock()
	r := e.st.reconByID[id]
	if r == nil || r.Status != usageapi.ReconciliationStatusUploaded && r.Status != usageapi.ReconciliationStatusProcessing {
		e.mu.Unlock()
		return
	}
	r.Status = usageapi.ReconciliationStatusProcessing
	upload := e.st.blobs[r.Upload]
	e.mu.Unlock()
	rows, err := readReconRows(upload)
	e.mu.Lock()
	if r = e.st.reconByID[id]; r != nil && r.Status == usageapi.ReconciliationStatusProcessing {
		e.applyReconLocked(r, rows, err)
	}
	e.mu.Unlock()
	e.logBackground("persist", id, e.persist())
}

// applyReconLocked closes the records a reconciliation names and writes its processed workbook.
func (e *Emulator) applyReconLocked(r *reconState, rows []reconRow, err error) {
	r.Status = usageapi.ReconciliationStatusFailed
	if err != nil {
		r.ErrorDetail = clipText(err.Error(), 200)
		return
	}
	out := [][]any{{"usage_record_id", "record_id", "external_billing_id", "external_billing_note", "status", "error"}}
	closed, failed := 0, 0
	t := e.now()
	for _, row := range rows {
		rec, msg := e.reconTargetLocked(r, row)
		if rec != nil {
			closeRecord(rec, row.billingID, row.billingNote, t, nil)
			closed++
			out = append(out, []any{rec.ID, rec.RecordID, row.billingID, row.billingNote, "closed", ""})
			continue
		}
		failed++
		out = append(out, []any{row.urID, row.recordID, row.billingID, row.billingNote, "error", msg})
	}
	if b, werr := tableWorkbook("records", out); werr == nil {
		r.Processed = e.st.putBlob(b)
	}
	r.ProcessNote = fmt.Sprintf("%d records closed, %d rows with errors.", closed, failed)
	if f := e.st.fileByID[r.FileID]; f != nil && closed > 0 {
		r.Status = usageapi.ReconciliationStatusProcessed
		e.closeIfAllClosedLocked(f, nil)
	} else {
		r.ErrorDetail = "No record of an accepted file was reconciled."
	}
}

// reconTargetLocked finds the record a reconciliation row names; it fixes the reconciliation's file and
// chunk from the first record found.
func (e *Emulator) reconTargetLocked(r *reconState, row reconRow) (*recordState, string) {
	var rec *recordState
	switch {
	case row.urID != "":
		rec = e.st.recordByID[row.urID]
	case row.recordID != "" && r.FileID != "":
		for _, x := range e.st.recordsOf(r.FileID) {
			if x.RecordID == row.recordID {
				rec = x
				break
			}
		}
	}
	switch {
	case rec == nil:
		return nil, "record not found"
	case r.FileID != "" && rec.FileID != r.FileID:
		return nil, "record belongs to another usage file"
	case rec.Status != usageapi.RecordStatusApproved && rec.Status != usageapi.RecordStatusClosed:
		return nil, "record is " + string(rec.Status) + ", not approved"
	case row.billingID == "":
		return nil, "external_billing_id is required"
	}
	if r.FileID == "" {
		r.FileID = rec.FileID
	}
	if r.ChunkID == "" {
		r.ChunkID = rec.Chunk
	}
	return rec, ""
}

// readReconRows reads the rows of a reconciliation workbook.
func readReconRows(b []byte) ([]reconRow, error) {
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("the reconciliation file is not an xlsx workbook: %w", err)
	}
	defer func() { _ = f.Close() }()
	sheets := f.GetSheetList()
	sheet := sheets[0]
	for _, s := range sheets {
		if strings.EqualFold(s, "records") {
			sheet = s
		}
	}
	cells, err := f.GetRows(sheet)
	if err != nil || len(cells) < 2 {
		return nil, fmt.Errorf("the reconciliation file has no rows in sheet %s", sheet)
	}
	col := map[string]int{}
	for i, h := range cells[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	get := func(row []string, names ...string) string {
		for _, n := range names {
			if i, ok := col[n]; ok && i < len(row) {
				return strings.TrimSpace(row[i])
			}
		}
		return ""
	}
	var rows []reconRow
	for _, row := range cells[1:] {
		rows = append(rows, reconRow{
			urID: get(row, "usage_record_id", "id"), recordID: get(row, "record_id"),
			billingID: get(row, "external_billing_id"), billingNote: get(row, "external_billing_note"),
		})
	}
	return rows, nil
}

// renderRecon renders a reconciliation.
func (e *Emulator) renderRecon(r *reconState) usageapi.Reconciliation {
	events := r.Events
	out := usageapi.Reconciliation{
		ID: r.ID, Status: r.Status, Events: &events,
		Notes: &usageapi.ReconciliationNotes{Uploaded: r.UploadNote, Processing: r.ProcessNote},
	}
	if f := e.st.fileByID[r.FileID]; f != nil {
		out.UsageFile = f.ref()
	}
	if c := e.st.chunkByID[r.ChunkID]; c != nil {
		hub := c.Hub
		var provider usageapi.Account
		if f := e.st.fileByID[c.FileID]; f != nil {
			provider = f.Provider
		}
		out.PartUsageFile = &usageapi.ChunkRef{ID: c.ID, Provider: &provider}
		out.Binding = &usageapi.Binding{Hub: &hub}
	}
	if r.ErrorDetail != "" {
		out.Error = &usageapi.ErrorDetail{Detail: r.ErrorDetail}
	}
	return out
}
