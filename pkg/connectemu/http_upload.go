package connectemu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// uploadFile serves POST /usage/files/{id}/upload: the workbook's structure is checked at once (400 when it
// is not a usage workbook, lacks a column or has an empty numeric cell, as Connect answers), the file goes
// to uploading, and its records are validated in the background, from the workbook read here.
func (e *Emulator) uploadFile(w http.ResponseWriter, r *http.Request, c caller) error {
	data, err := readMultipartFile(r, usageapi.FieldUsageFile)
	if err != nil {
		return err
	}
	id, base := r.PathValue("id"), baseURL(r)
	e.mu.Lock()
	f, err := e.fileForLocked(id, opUpload)
	var schema usageapi.Schema
	if err == nil {
		schema = f.Schema
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	wb, err := readWorkbook(data, schema)
	if err != nil {
		return err
	}
	if err := checkStructure(wb); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		f, err := e.startUploadLocked(id, data, len(wb.Records), c.user)
		if err != nil {
			return nil, err
		}
		e.keepWorkbookLocked(f, wb)
		return e.fileDetail(f, base), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// startUploadLocked stores a new workbook for file id, drops the records of the previous one and schedules
// its processing.
func (e *Emulator) startUploadLocked(id string, data []byte, rows int, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opUpload)
	if err != nil {
		return nil, err
	}
	e.st.removeRecordsOf(f.ID)
	f.Upload = e.st.putBlob(data)
	f.Processed, f.ErrorDetail, f.Categories = "", "", nil
	f.AcceptanceNote, f.RejectionNote = "", ""
	f.Counts = usageapi.RecordCounts{}
	f.Uploaded = rows
	f.Status = usageapi.FileStatusUploading
	f.Events.Uploaded = event(e.now(), by)
	f.Generation++
	e.recountLocked(f)
	e.scheduleProcessingLocked(f)
	return f, nil
}

// readMultipartFile returns the content of the multipart field name: 400 VAL_001 when there is none.
func readMultipartFile(r *http.Request, name string) ([]byte, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxUpload)
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return nil, invalid("%s: Cannot read the multipart body: %v", name, err)
	}
	file, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, invalid("%s: No file was submitted.", name)
	}
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	defer func(file multipart.File) { _ = file.Close() }(file)
	b, err := io.ReadAll(file)
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	if len(b) == 0 {
		return nil, invalid("%s: The submitted file is empty.", name)
	}
	return b, nil
}

// readWorkbook parses an uploaded usage workbook for a file of schema: 400 VAL_001 when it is not one.
func readWorkbook(data []byte, schema usageapi.Schema) (*usagefile.Workbook, error) {
	wb, err := usagefile.Read(bytes.NewReader(data), usagefile.ReadOptions{Schema: events.Schema(strings.ToUpper(string(schema)))})
	if err != nil {
		return nil, invalid("usage_file: %v", err)
	}
	return wb, nil
}

// checkStructure answers 400 VAL_001 for what Connect refuses at upload rather than during processing:
// duplicate or missing columns and empty numeric cells (quantity, or amount when the column is present).
func checkStructure(wb *usagefile.Workbook) error {
	var msgs []string
	for _, p := range wb.Problems {
		if p.Sheet == wb.Sheet {
			msgs = append(msgs, p.Error())
		}
	}
	header := map[string]bool{}
	for _, c := range wb.Columns {
		name := strings.ToLower(strings.TrimSpace(c))
		if name == usagefile.ColRecordIDLegacy {
			name = usagefile.ColRecordID
		}
		header[name] = true
	}
	for _, c := range usagefile.RequiredColumns {
		if !header[c] {
			msgs = append(msgs, fmt.Sprintf("%s: missing column %s", wb.Sheet, c))
		}
	}
	for i := range wb.Records {
		msgs = append(msgs, emptyNumbers(&wb.Records[i], header)...)
	}
	if len(msgs) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, code: CodeValidation, msgs: capMessages(msgs, 20)}
}

// emptyNumbers reports the empty numeric cells of a record.
func emptyNumbers(rec *usagefile.ReadRecord, header map[string]bool) []string {
	var msgs []string
	for _, p := range rec.Problems {
		if errors.Is(p.Err, usagefile.ErrMissingValue) && (p.Column == usagefile.ColQuantity || p.Column == usagefile.ColAmount || p.Column == usagefile.ColTier) {
			msgs = append(msgs, fmt.Sprintf("row %d: %s: empty numeric cell", rec.Row, p.Column))
		}
	}
	amountReported := slices.ContainsFunc(rec.Problems, func(p usagefile.Problem) bool { return p.Column == usagefile.ColAmount })
	if header[usagefile.ColAmount] && rec.Amount == nil && !amountReported {
		msgs = append(msgs, fmt.Sprintf("row %d: %s: empty numeric cell", rec.Row, usagefile.ColAmount))
	}
	return msgs
}

// capMessages keeps the first n messages and says how many more there were.
func capMessages(msgs []string, n int) []string {
	if len(msgs) <= n {
		return msgs
	}
	return append(msgs[:n:n], fmt.Sprintf("… and %d more.", len(msgs)-n))
}
