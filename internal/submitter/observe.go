package submitter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/metric"
)

// observe moves the entry to the state its Connect file's status means, keeping what the status comes with:
// the provider's note, the upload found invalid, the reason a file is gone. A status the entry cannot reach
// from its state (someone outside the submitter changed the file) parks it as failed.
func (s *Submitter) observe(e *Entry, f *usageapi.FileDetail) error {
	e.FileID, e.Status = f.ID, string(f.Status)
	to, note := stateOf(f.Status), ""
	switch to {
	case StateInvalid:
		if e.State == StateRepairing && uploadedAt(f).Equal(e.InvalidUploadAt) {
			return nil // the invalid upload being repaired, not a new one
		}
		e.InvalidUploadAt, note = uploadedAt(f), f.ErrorDetail
	case StateRejected:
		e.Note, note = f.RejectionNote, f.RejectionNote
	case StateAccepted, StateClosed:
		e.Note, note = f.AcceptanceNote, f.AcceptanceNote
	case StateFailed:
		e.Reason = fmt.Sprintf("Connect file %s is %s", f.ID, f.Status)
		note = e.Reason
	}
	if err := e.moveTo(to, s.now(), note); err != nil {
		return permanent(fmt.Sprintf("Connect file %s is %s", f.ID, f.Status), err)
	}
	return nil
}

// transitioned reports the moves an entry made in a step, once they are written: metrics (files by state,
// records submitted, close-to-submit and close-to-accept times) and logs; a parked entry is logged as an
// error for an operator. A move may skip states (the file got further than the ledger knew): the first move
// past submission counts the submission, the first into accepted or closed the acceptance.
func (s *Submitter) transitioned(ctx context.Context, e *Entry) {
	s.ins.track(e.Key, e.State)
	for _, m := range e.moves {
		s.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, m.to)...))
		kind := metric.WithAttributes(stateAttrs(e, m.to)[1])
		if !wasSubmitted(m.from) && wasSubmitted(m.to) {
			s.ins.records.Add(ctx, int64(e.Records-len(e.Excluded)), kind)
			s.ins.toSubmit.Record(ctx, m.at.Sub(e.ClosedAt).Seconds(), kind)
		}
		if !wasAccepted(m.from) && wasAccepted(m.to) {
			s.ins.toAccept.Record(ctx, m.at.Sub(e.ClosedAt).Seconds(), kind)
		}
		s.logTransition(ctx, e, Transition{State: m.to, At: m.at, Note: m.note})
	}
	e.moves = nil
}

// wasSubmitted reports whether a file in state st has been submitted to the provider.
func wasSubmitted(st State) bool {
	return st == StateSubmitted || st == StateAccepted || st == StateClosed || st == StateRejected
}

// wasAccepted reports whether a file in state st has been accepted by the provider.
func wasAccepted(st State) bool { return st == StateAccepted || st == StateClosed }

func (s *Submitter) logTransition(ctx context.Context, e *Entry, t Transition) {
	args := []any{"key", e.Key, "state", t.State, "file_id", e.FileID, "external_id", e.ExternalID}
	switch t.State {
	case StateRejected:
		s.log.ErrorContext(ctx, "usage file rejected by the provider: parked for an operator", append(args, "note", e.Note)...)
	case StateFailed:
		s.log.ErrorContext(ctx, "usage file failed: parked for an operator", append(args, "reason", e.Reason)...)
	default:
		s.log.InfoContext(ctx, "usage file "+string(t.State), append(args, "note", t.Note)...)
	}
}
