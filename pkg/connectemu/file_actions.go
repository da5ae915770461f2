package connectemu

import (
	"net/http"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// File operations and the statuses they are allowed from (Connect's usage file state machine):
//
//	draft → uploading → processing → ready | invalid      (upload; the rest is background processing)
//	invalid | ready | rejected → uploading                  (re-upload)
//	ready → pending → accepted | rejected                   (submit; provider accept / reject)
//	accepted → closed                                       (provider close, or every chunk closed)
//	draft | invalid | ready → deleted                       (delete)
type fileOp string

const (
	opUpload     fileOp = "upload"
	opSubmit     fileOp = "submit"
	opAccept     fileOp = "accept"
	opReject     fileOp = "reject"
	opClose      fileOp = "close"
	opDelete     fileOp = "delete"
	opApproveAll fileOp = "approve-all"
	opReprocess  fileOp = "reprocess"
	opReconcile  fileOp = "reconciliation"
	opUpdate     fileOp = "update"
)

var allowedFrom = map[fileOp][]usageapi.FileStatus{
	opUpload:     {usageapi.FileStatusDraft, usageapi.FileStatusInvalid, usageapi.FileStatusReady, usageapi.FileStatusRejected},
	opSubmit:     {usageapi.FileStatusReady},
	opAccept:     {usageapi.FileStatusPending},
	opReject:     {usageapi.FileStatusPending},
	opClose:      {usageapi.FileStatusAccepted},
	opDelete:     {usageapi.FileStatusDraft, usageapi.FileStatusInvalid, usageapi.FileStatusReady},
	opApproveAll: {usageapi.FileStatusPending},
	opReprocess:  {usageapi.FileStatusAccepted},
	opReconcile:  {usageapi.FileStatusAccepted},
}

// fileForLocked returns the file id for op: 404 if there is none, 400 USG_001 if op is not allowed from its
// status.
func (e *Emulator) fileForLocked(id string, op fileOp) (*fileState, error) {
	f := e.st.fileByID[id]
	if f == nil {
		return nil, notFound("Usage file", id)
	}
	if op == opUpdate {
		if f.Status == usageapi.FileStatusDeleted {
			return nil, illegal("Usage file", id, f.Status, string(op))
		}
		return f, nil
	}
	if !slices.Contains(allowedFrom[op], f.Status) {
		return nil, illegal("Usage file", id, f.Status, string(op))
	}
	return f, nil
}

// updateFileLocked applies PUT /usage/files/{id}. Period and currency may only change before records exist
// (draft or invalid).
func (e *Emulator) updateFileLocked(id string, req usageapi.UpdateFileRequest) (*fileState, error) {
	f, err := e.fileForLocked(id, opUpdate)
	if err != nil {
		return nil, err
	}
	if err := checkLengths(map[string]fieldLen{
		"description": {req.Description, 200}, "note": {req.Note, 200},
		"external_id": {req.ExternalID, 200}, "currency": {req.Currency, 20},
	}); err != nil {
		return nil, err
	}
	early := f.Status == usageapi.FileStatusDraft || f.Status == usageapi.FileStatusInvalid
	if (req.Period != nil || req.Currency != "") && !early {
		return nil, illegal("Usage file", id, f.Status, "changing period or currency")
	}
	if req.Period != nil {
		if err := checkPeriod(*req.Period); err != nil {
			return nil, err
		}
		f.Period = *req.Period
	}
	setIf(&f.Description, req.Description)
	setIf(&f.Note, req.Note)
	setIf(&f.ExternalID, req.ExternalID)
	setIf(&f.Currency, req.Currency)
	return f, nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// submitLocked moves a ready file to pending and lets the provider policy (or a usage rule) decide it.
func (e *Emulator) submitLocked(id string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opSubmit)
	if err != nil {
		return nil, err
	}
	f.Status = usageapi.FileStatusPending
	f.Events.Submitted = event(e.now(), by)
	f.AcceptanceNote, f.RejectionNote = "", ""
	e.recountLocked(f)
	e.decideLocked(f)
	return f, nil
}

// acceptLocked accepts a pending file: its records become approved and one chunk per hub is generated.
func (e *Emulator) acceptLocked(id, note string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opAccept)
	if err != nil {
		return nil, err
	}
	f.Status = usageapi.FileStatusAccepted
	f.AcceptanceNote = note
	f.Events.Accepted = event(e.now(), by)
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status == usageapi.RecordStatusValid {
			r.Status = usageapi.RecordStatusApproved
		}
	}
	e.createChunksLocked(f)
	e.recountLocked(f)
	return f, nil
}

// rejectLocked rejects a pending file: its records become rejected; the vendor may upload again.
func (e *Emulator) rejectLocked(id, note string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opReject)
	if err != nil {
		return nil, err
	}
	f.Status = usageapi.FileStatusRejected
	f.RejectionNote = note
	f.Events.Rejected = event(e.now(), by)
	for _, r := range e.st.recordsOf(f.ID) {
		r.Status = usageapi.RecordStatusRejected
	}
	e.recountLocked(f)
	return f, nil
}

// closeFileLocked closes an accepted file, its records and its open chunks, once every approved record has
// external billing data (an id or a note): "In case such data is not provided, usage record object cannot
// be assigned to the Closed status" (Connect's record workflow). The provider bills records first, by
// closing them (one by one or close-records), their chunks, or a reconciliation.
func (e *Emulator) closeFileLocked(id string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opClose)
	if err != nil {
		return nil, err
	}
	if n := e.unbilledLocked(f); n > 0 {
		return nil, newAPIError(http.StatusBadRequest, CodeTransition, "Usage file %s: %d approved records have no "+
			"external billing id or note; close them with their billing data before the file.", id, n)
	}
	t := e.now()
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status == usageapi.RecordStatusApproved {
			closeRecord(r, "", "", t, by)
		}
	}
	for _, c := range e.st.chunksOf(f.ID) {
		if c.Status != usageapi.ChunkStatusClosed {
			c.Status = usageapi.ChunkStatusClosed
			c.Events.Closed = event(t, by)
		}
	}
	e.markClosedLocked(f, t, by)
	return f, nil
}

// unbilledLocked counts the approved records of f without external billing data.
func (e *Emulator) unbilledLocked(f *fileState) int {
	n := 0
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status == usageapi.RecordStatusApproved && !billed(r) {
			n++
		}
	}
	return n
}

// billLocked gives the approved records of an accepted file that lack billing data the note, as a
// provider bills them before closing the file (the Go API's CloseFile).
func (e *Emulator) billLocked(id, note string) {
	f := e.st.fileByID[id]
	if f == nil || f.Status != usageapi.FileStatusAccepted {
		return
	}
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status == usageapi.RecordStatusApproved && !billed(r) {
			r.ExternalBillingNote = note
		}
	}
}

// markClosedLocked sets a file closed (all its records are).
func (e *Emulator) markClosedLocked(f *fileState, t time.Time, by *usageapi.User) {
	f.Status = usageapi.FileStatusClosed
	f.Events.Closed = event(t, by)
	e.recountLocked(f)
}

// deleteFileLocked deletes a draft, invalid or ready file. The file stays readable with status deleted.
func (e *Emulator) deleteFileLocked(id string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opDelete)
	if err != nil {
		return nil, err
	}
	f.Status = usageapi.FileStatusDeleted
	f.Events.Deleted = event(e.now(), by)
	e.st.removeRecordsOf(f.ID)
	e.recountLocked(f)
	return f, nil
}

// approveAllLocked approves every valid record of a pending file; the file stays pending for the provider's
// accept.
func (e *Emulator) approveAllLocked(id string) (*fileState, error) {
	f, err := e.fileForLocked(id, opApproveAll)
	if err != nil {
		return nil, err
	}
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status == usageapi.RecordStatusValid {
			r.Status = usageapi.RecordStatusApproved
		}
	}
	e.recountLocked(f)
	return f, nil
}

// reprocessLocked recounts an accepted file after the provider closed records one by one, and closes the
// file when every record is closed.
func (e *Emulator) reprocessLocked(id string, by *usageapi.User) (*fileState, error) {
	f, err := e.fileForLocked(id, opReprocess)
	if err != nil {
		return nil, err
	}
	e.closeIfAllClosedLocked(f, by)
	return f, nil
}

// closeIfAllClosedLocked closes an accepted file none of whose records is still open (each is closed, or
// was rejected by the provider).
func (e *Emulator) closeIfAllClosedLocked(f *fileState, by *usageapi.User) {
	e.recountLocked(f)
	if f.Status != usageapi.FileStatusAccepted {
		return
	}
	for _, r := range e.st.recordsOf(f.ID) {
		if r.Status != usageapi.RecordStatusClosed && r.Status != usageapi.RecordStatusRejected {
			return
		}
	}
	t := e.now()
	for _, c := range e.st.chunksOf(f.ID) {
		if c.Status != usageapi.ChunkStatusClosed {
			c.Status = usageapi.ChunkStatusClosed
			c.Events.Closed = event(t, by)
		}
	}
	e.markClosedLocked(f, t, by)
}
