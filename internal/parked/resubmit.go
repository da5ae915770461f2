package parked

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Resubmit gets the content of a rejected file, or of a failed one that has a Connect file, reported again.
// It reads the Connect file first: rejected, draft, invalid or ready, the same file is uploaded again
// (Connect allows it; the entry moves to created with a Reupload); deleted or gone, a new file is made under
// the next attempt's external id (the entry moves to planned); pending, accepted or closed — the provider may
// still accept it, or has — it is refused, as is a file Connect is processing. One compare-and-set writes
// the move; any submitter's driver takes it at its next scan.
func (s *Service) Resubmit(ctx context.Context, key string, actor ledger.Actor, note string) (*Result, error) {
	e, rev, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	switch {
	case e.ParkedWithoutFile():
		return nil, refuse(ActionResubmit, e.Key, "it was parked before Connect had a file (%s): retry it instead", reasonCode(e))
	case !e.State.Parked():
		return nil, refuse(ActionResubmit, e.Key, "it is %s, not parked", e.State)
	case s.connect == nil:
		return nil, refuse(ActionResubmit, e.Key, "it needs Connect to look at file %s (give --connect-url and --connect-api-key)", e.FileID)
	}
	f, err := s.connect.GetFile(ctx, e.FileID)
	if err != nil && !usageapi.IsNotFound(err) {
		return nil, fmt.Errorf("parked: read Connect file %s: %w", e.FileID, err)
	}
	outcome, err := s.moveForResubmit(e, f, actor, note)
	if err != nil {
		return nil, err
	}
	step("checked", e.Key)
	if _, err := s.ledger.Update(ctx, e, rev); errors.Is(err, bus.ErrRevisionMismatch) {
		return nil, refuse(ActionResubmit, e.Key, "the entry changed meanwhile: look at it again")
	} else if err != nil {
		return nil, fmt.Errorf("parked: resubmit %s: %w", e.Key, err)
	}
	return s.logged(ctx, e, actor, ActionResubmit, note, outcome)
}

// moveForResubmit moves e, in memory, as Connect's file f (nil: gone) allows, and says what will happen.
func (s *Service) moveForResubmit(e *ledger.Entry, f *usageapi.FileDetail, actor ledger.Actor, note string) (string, error) {
	if f == nil || f.Status == usageapi.FileStatusDeleted {
		return s.newFile(e, actor, note)
	}
	switch f.Status {
	case usageapi.FileStatusRejected, usageapi.FileStatusDraft, usageapi.FileStatusInvalid, usageapi.FileStatusReady:
		e.Reupload = &ledger.Reupload{Status: string(f.Status), At: f.StatusAt()}
		if err := e.OperatorMove(ledger.StateCreated, s.now(), actor.String(), "resubmit: upload again into "+f.ID+": "+note); err != nil {
			return "", refuse(ActionResubmit, e.Key, "%v", err)
		}
		return fmt.Sprintf("Connect file %s (%s) is uploaded again and submitted by a submitter's driver", f.ID, f.Status), nil
	case usageapi.FileStatusPending:
		return "", refuse(ActionResubmit, e.Key, "Connect file %s is pending at the provider, who may still accept it", f.ID)
	case usageapi.FileStatusAccepted, usageapi.FileStatusClosed:
		return "", refuse(ActionResubmit, e.Key, "Connect file %s is %s: it is billed already (the ledger says %s)", f.ID, f.Status, e.State)
	}
	return "", refuse(ActionResubmit, e.Key, "Connect file %s is %s: wait until Connect has processed it", f.ID, f.Status)
}

// newFile moves e to planned under the next attempt's external id, its dead file kept in PreviousFiles.
func (s *Service) newFile(e *ledger.Entry, actor ledger.Actor, note string) (string, error) {
	old, oldStatus := e.FileID, e.Status
	e.PreviousFiles = append(e.PreviousFiles, ledger.PreviousFile{FileID: old, ExternalID: e.ExternalID, Status: oldStatus, Until: s.now().UTC()})
	e.Attempt = max(e.Attempt, 1) + 1
	e.ExternalID = e.ID().ExternalIDAttempt(e.Attempt)
	e.FileID, e.Status, e.Reupload, e.InvalidUploadAt = "", "", nil, time.Time{}
	move := fmt.Sprintf("resubmit: file %s is gone, a new file %s: %s", old, e.ExternalID, note)
	if err := e.OperatorMove(ledger.StatePlanned, s.now(), actor.String(), move); err != nil {
		return "", refuse(ActionResubmit, e.Key, "%v", err)
	}
	return fmt.Sprintf("Connect file %s is gone: a new file with external_id %s is created and submitted by a submitter's driver", old, e.ExternalID), nil
}

// Abandon closes a parked entry on purpose, with a note (required): it stops alerting, its data stays.
func (s *Service) Abandon(ctx context.Context, key string, actor ledger.Actor, note string) (*Result, error) {
	if strings.TrimSpace(note) == "" {
		return nil, refuse(ActionAbandon, key, "a note saying why is required")
	}
	e, rev, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := e.OperatorMove(ledger.StateAbandoned, s.now(), actor.String(), "abandoned: "+note); err != nil {
		return nil, refuse(ActionAbandon, e.Key, "it is %s, not parked", e.State)
	}
	if _, err := s.ledger.Update(ctx, e, rev); errors.Is(err, bus.ErrRevisionMismatch) {
		return nil, refuse(ActionAbandon, e.Key, "the entry changed meanwhile: look at it again")
	} else if err != nil {
		return nil, fmt.Errorf("parked: abandon %s: %w", e.Key, err)
	}
	return s.logged(ctx, e, actor, ActionAbandon, note, "abandoned on purpose: it stops alerting, its data stays")
}

// logged records a done action in the period's log and returns its result.
func (s *Service) logged(ctx context.Context, e *ledger.Entry, actor ledger.Actor, action, note, outcome string) (*Result, error) {
	step("moved", e.Key)
	res := &Result{Action: action, Key: e.Key, Outcome: outcome, Entries: []string{e.Key}}
	a := ledger.Action{At: s.now(), Actor: actor, Action: action, Target: e.Key, Note: note, Outcome: outcome}
	if err := s.ledger.AppendAction(ctx, e.Product, e.Contract, e.PeriodStart, a); err != nil {
		return res, fmt.Errorf("parked: %s done, but the action log failed: %w", action, err)
	}
	return res, nil
}
