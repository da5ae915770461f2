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

// transitioned reports the states an entry entered since history index seen, once they are written:
// metrics (files by state, records submitted, close-to-submit and close-to-accept times) and logs; a parked
// entry is logged as an error for an operator.
func (s *Submitter) transitioned(ctx context.Context, e *Entry, seen int) {
	s.ins.track(e.Key, e.State)
	if seen > len(e.History) {
		seen = len(e.History)
	}
	for _, t := range e.History[seen:] {
		s.ins.files.Add(ctx, 1, metric.WithAttributes(stateAttrs(e, t.State)...))
		kind := metric.WithAttributes(stateAttrs(e, t.State)[1])
		switch t.State {
		case StateSubmitted:
			s.ins.records.Add(ctx, int64(e.Records-len(e.Excluded)), kind)
			s.ins.toSubmit.Record(ctx, t.At.Sub(e.ClosedAt).Seconds(), kind)
		case StateAccepted, StateClosed:
			if _, before := e.enteredAt(StateAccepted); t.State == StateAccepted || !before {
				s.ins.toAccept.Record(ctx, t.At.Sub(e.ClosedAt).Seconds(), kind)
			}
		}
		s.logTransition(ctx, e, t)
	}
}

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
