package submitter

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/metric"
)

// observe moves the entry to the state its Connect file's status means, keeping what the status comes with:
// the provider's note, the upload found invalid, the reason a file is gone; a file an operator asked to
// report again, as it was then, stays to be uploaded (reuploading). A status the entry cannot reach
// from its state (someone outside the submitter changed the file) parks it as failed.
func (d *driver) observe(e *ledger.Entry, f *usageapi.FileDetail) error {
	e.FileID, e.Status = f.ID, string(f.Status)
	if reuploading(e, f) {
		return nil // the parked file an operator asked to report again: the next upload does
	}
	to, note := stateOf(f.Status), ""
	switch to {
	case ledger.StateInvalid:
		if e.State == ledger.StateRepairing && uploadedAt(f).Equal(e.InvalidUploadAt) {
			return nil // the invalid upload being repaired, not a new one
		}
		e.InvalidUploadAt, note = uploadedAt(f), f.ErrorDetail
	case ledger.StateRejected:
		e.Note, note = f.RejectionNote, f.RejectionNote
	case ledger.StateAccepted, ledger.StateClosed:
		e.Note, note = f.AcceptanceNote, f.AcceptanceNote
	case ledger.StateFailed:
		e.Reason = fmt.Sprintf("Connect file %s is %s", f.ID, f.Status)
		note = e.Reason
	}
	if err := e.MoveTo(to, d.now(), note); err != nil {
		return permanent(fmt.Sprintf("Connect file %s is %s", f.ID, f.Status), err)
	}
	return nil
}

// transitioned reports the moves an entry made in a step, once they are written: metrics (files by state,
// records submitted, close-to-submit and close-to-accept times) and logs; a parked entry is logged as an
// error for an operator. A move may skip states (the file got further than the ledger knew): the first move
// past submission counts the submission, the first into accepted or closed the acceptance.
func (d *driver) transitioned(ctx context.Context, e *ledger.Entry) {
	d.ins.track(e.Key, e.State)
	for _, m := range e.TakeMoves() {
		d.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, m.To)...))
		kind := metric.WithAttributes(stateAttrs(e, m.To)[1])
		if !wasSubmitted(m.From) && wasSubmitted(m.To) {
			d.ins.records.Add(ctx, int64(e.Records-len(e.Excluded)), kind)
			d.ins.toSubmit.Record(ctx, m.At.Sub(e.ClosedAt).Seconds(), kind)
		}
		if !wasAccepted(m.From) && wasAccepted(m.To) {
			d.ins.toAccept.Record(ctx, m.At.Sub(e.ClosedAt).Seconds(), kind)
		}
		logTransition(ctx, d.log, e, ledger.Transition{State: m.To, At: m.At, Note: m.Note})
	}
}

// wasSubmitted reports whether a file in state st has been submitted to the provider.
func wasSubmitted(st ledger.State) bool {
	return st == ledger.StateSubmitted || st == ledger.StateAccepted || st == ledger.StateClosed || st == ledger.StateRejected
}

// wasAccepted reports whether a file in state st has been accepted by the provider.
func wasAccepted(st ledger.State) bool { return st == ledger.StateAccepted || st == ledger.StateClosed }

// logTransition logs e entering a state; a parked entry is logged as an error for an operator.
func logTransition(ctx context.Context, log *slog.Logger, e *ledger.Entry, t ledger.Transition) {
	args := []any{"key", e.Key, "state", t.State, "file_id", e.FileID, "external_id", e.ExternalID}
	switch t.State {
	case ledger.StateRejected:
		log.ErrorContext(ctx, "usage file rejected by the provider: parked for an operator", append(args, "note", e.Note)...)
	case ledger.StateFailed:
		log.ErrorContext(ctx, "usage file failed: parked for an operator", append(args, "reason", e.Reason)...)
	default:
		log.InfoContext(ctx, "usage file "+string(t.State), append(args, "note", t.Note)...)
	}
}

// stateOf maps a Connect file status to the ledger state it means. A deleted file (or an unknown status)
// is failed: someone outside the submitter removed it.
func stateOf(st usageapi.FileStatus) ledger.State {
	switch {
	case st == usageapi.FileStatusDraft:
		return ledger.StateCreated
	case st.Processing():
		return ledger.StateUploaded
	}
	switch st {
	case usageapi.FileStatusReady:
		return ledger.StateReady
	case usageapi.FileStatusInvalid:
		return ledger.StateInvalid
	case usageapi.FileStatusPending:
		return ledger.StateSubmitted
	case usageapi.FileStatusAccepted:
		return ledger.StateAccepted
	case usageapi.FileStatusClosed:
		return ledger.StateClosed
	case usageapi.FileStatusRejected:
		return ledger.StateRejected
	}
	return ledger.StateFailed
}
