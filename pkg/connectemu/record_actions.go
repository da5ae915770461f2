package connectemu

import (
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Record statuses follow their file: valid while the file is ready or pending, approved once it is
// accepted (or by the provider one by one), rejected with it, closed with billing data.

// recountLocked refreshes the stats and record counts of f from its records.
func (e *Emulator) recountLocked(f *fileState) {
	recs := e.st.recordsOf(f.ID)
	s := usageapi.Stats{Uploaded: f.Uploaded, Validated: f.Counts.Valid}
	closed := 0
	for _, r := range recs {
		switch r.Status {
		case usageapi.RecordStatusApproved:
			s.Accepted++
		case usageapi.RecordStatusClosed:
			s.Accepted++
			closed++
		}
		if r.ExternalBillingID != "" {
			s.Billed++
		}
	}
	s.Closed = closed
	if f.Status == usageapi.FileStatusPending {
		s.Pending = len(recs)
	}
	f.Stats = s
	f.Counts.Closed = closed
}

// billed reports whether r has external billing data, which closing it needs.
func billed(r *recordState) bool { return r.ExternalBillingID != "" || r.ExternalBillingNote != "" }

// closeRecord closes r with billing data (kept if already closed with some).
func closeRecord(r *recordState, billingID, billingNote string, t time.Time, by *usageapi.User) {
	if billingID != "" {
		r.ExternalBillingID = billingID
	}
	if billingNote != "" {
		r.ExternalBillingNote = billingNote
	}
	if r.Status == usageapi.RecordStatusClosed {
		return
	}
	r.Status = usageapi.RecordStatusClosed
	at := t.UTC()
	r.ClosedAt = &at
	if by != nil {
		r.ClosedBy = by.ID
	}
}

// recordForLocked returns a record and its file, or 404.
func (e *Emulator) recordForLocked(id string) (*recordState, *fileState, error) {
	r := e.st.recordByID[id]
	if r == nil {
		return nil, nil, notFound("Usage record", id)
	}
	return r, e.st.fileByID[r.FileID], nil
}

// setRecordStatusLocked applies PUT /usage/records/{id}: the provider approves or rejects a record of a
// pending or accepted file, or puts it back to valid while pending. Closing needs billing data: only a
// record that already has an external billing id may be set closed this way.
func (e *Emulator) setRecordStatusLocked(id string, status usageapi.RecordStatus, by *usageapi.User) (*recordState, error) {
	r, f, err := e.recordForLocked(id)
	if err != nil {
		return nil, err
	}
	open := f.Status == usageapi.FileStatusPending || f.Status == usageapi.FileStatusAccepted
	switch {
	case r.Status == usageapi.RecordStatusClosed:
		return nil, illegal("Usage record", id, r.Status, "changing the status")
	case status == usageapi.RecordStatusApproved || status == usageapi.RecordStatusRejected:
		if !open {
			return nil, illegal("Usage record", id, r.Status, "setting "+string(status)+" while its file is "+string(f.Status))
		}
	case status == usageapi.RecordStatusValid:
		if f.Status != usageapi.FileStatusPending {
			return nil, illegal("Usage record", id, r.Status, "setting valid while its file is "+string(f.Status))
		}
	case status == usageapi.RecordStatusClosed:
		if !billed(r) || r.Status != usageapi.RecordStatusApproved {
			return nil, illegal("Usage record", id, r.Status, "closing without external billing data (use close)")
		}
		closeRecord(r, "", "", e.now(), by)
		e.recountLocked(f)
		return r, nil
	default:
		return nil, invalid("status: %q is not a valid choice.", status)
	}
	r.Status = status
	e.recountLocked(f)
	return r, nil
}

// closeRecordLocked applies POST /usage/records/{id}/close to an approved record of an accepted file.
func (e *Emulator) closeRecordLocked(id string, req usageapi.CloseRecordRequest, by *usageapi.User) (*recordState, error) {
	r, f, err := e.recordForLocked(id)
	if err != nil {
		return nil, err
	}
	if r.Status != usageapi.RecordStatusApproved && r.Status != usageapi.RecordStatusClosed {
		return nil, illegal("Usage record", id, r.Status, "close")
	}
	if err := checkLengths(map[string]fieldLen{
		"external_billing_id": {req.ExternalBillingID, 255}, "external_billing_note": {req.ExternalBillingNote, 255},
	}); err != nil {
		return nil, err
	}
	if req.ExternalBillingID == "" && req.ExternalBillingNote == "" && !billed(r) {
		return nil, invalid("external_billing_id: a record is closed with an external billing id or note.")
	}
	closeRecord(r, req.ExternalBillingID, req.ExternalBillingNote, e.now(), by)
	e.recountLocked(f)
	return r, nil
}

// closeRecordsLocked applies POST /usage/records/close-records: each item is closed or answered with its
// error, never failing the whole request (206). A failed item carries the record's status, or none for a
// record that does not exist (the spec's status enum has no value for it).
func (e *Emulator) closeRecordsLocked(reqs []usageapi.CloseRecordRequest, by *usageapi.User) []usageapi.CloseRecordResult {
	out := make([]usageapi.CloseRecordResult, 0, len(reqs))
	for _, req := range reqs {
		res := usageapi.CloseRecordResult{ID: req.ID}
		r, err := e.closeRecordLocked(req.ID, req, by)
		if r != nil {
			res.Status = r.Status
		} else if old := e.st.recordByID[req.ID]; old != nil {
			res.Status = old.Status
		}
		if ae, ok := err.(*apiError); ok {
			res.ErrorCodes, res.ErrorDetails = ae.code, ae.msgs[0]
		}
		out = append(out, res)
	}
	return out
}
