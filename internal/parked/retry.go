package parked

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Retry has the revision of the entry key names planned again: it checks that the cause of its park is no
// longer visible (refused with the evidence otherwise), records the action in the period's log, and deletes
// the revision's parts parked without a Connect file (compare-and-set, each at the revision read). A
// submitter's next ledger scan plans the revision again. Run again after a crash, it deletes what is left.
func (s *Service) Retry(ctx context.Context, key string, actor ledger.Actor, note string) (*Result, error) {
	e, _, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	parts, err := s.ledger.Entries(ctx, ledger.RevisionPrefix(e.ID()))
	if err != nil {
		return nil, fmt.Errorf("parked: %w", err)
	}
	var stuck []*ledger.Entry
	for _, p := range parts {
		if p.ParkedWithoutFile() {
			stuck = append(stuck, p)
		}
	}
	if len(stuck) == 0 {
		return nil, refuse(ActionRetry, e.Key, "no part of its revision is parked before Connect had a file (%s is %s); "+
			"a parked Connect file is resubmitted or abandoned", e.Key, e.State)
	}
	if why, err := s.causeStillThere(ctx, stuck[0], parts); err != nil || why != "" {
		if err != nil {
			return nil, err
		}
		return nil, refuse(ActionRetry, e.Key, "%s", why)
	}
	rev := ledger.ParkedKey(e.ID())
	a := ledger.Action{At: s.now(), Actor: actor, Action: ActionRetry, Target: rev, Note: note,
		Outcome: fmt.Sprintf("%d part(s) parked as %s deleted: planned again at a submitter's next scan", len(stuck), reasonCode(stuck[0]))}
	if err := s.ledger.AppendAction(ctx, e.Product, e.Contract, e.PeriodStart, a); err != nil {
		return nil, fmt.Errorf("parked: action log: %w", err)
	}
	step("logged", rev)
	res := &Result{Action: ActionRetry, Key: rev, Outcome: a.Outcome}
	for _, p := range stuck {
		if err := s.deleteStuck(ctx, p.Key); err != nil {
			return res, err
		}
		step("deleted", p.Key)
		res.Entries = append(res.Entries, p.Key)
	}
	return res, nil
}

// deleteStuck deletes the entry at key if it is still parked without a file, at the revision read.
func (s *Service) deleteStuck(ctx context.Context, key string) error {
	e, rev, err := s.ledger.Get(ctx, key)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("parked: %s: %w", key, err)
	case !e.ParkedWithoutFile():
		return nil
	}
	if err := s.ledger.Delete(ctx, key, rev); err != nil && !errors.Is(err, bus.ErrRevisionMismatch) {
		return fmt.Errorf("parked: delete %s: %w", key, err)
	}
	return nil
}

// causeStillThere says what still shows the cause of e's park ("" when nothing does, or when nothing here can
// see it: a cause in Connect such as filter_ignored).
func (s *Service) causeStillThere(ctx context.Context, e *ledger.Entry, parts []*ledger.Entry) (string, error) {
	code := reasonCode(e)
	switch {
	case code == "records_missing" || code == "records_exceed_marks":
		return s.recordsStillMiscounted(ctx, e)
	case code == "unknown_product":
		if _, ok := s.catalog.Product(e.Product); !ok {
			return fmt.Sprintf("product %s is still not in the catalog: add it (and restart the submitters)", e.Product), nil
		}
	case code == "source_changed":
		for _, p := range parts {
			if p.FileID != "" {
				return fmt.Sprintf("part %d has Connect file %s: a revision with a file cannot be planned afresh; "+
					"resubmit or abandon its files", p.Part, p.FileID), nil
			}
		}
	case strings.HasPrefix(code, "base_"):
		return s.baseStillParked(ctx, e)
	}
	return "", nil
}

// baseStillParked says which part of the period's revision 0 is not billed yet.
func (s *Service) baseStillParked(ctx context.Context, e *ledger.Entry) (string, error) {
	base := e.ID()
	base.Revision = 0
	entries, err := s.ledger.Entries(ctx, ledger.RevisionPrefix(base))
	if err != nil {
		return "", fmt.Errorf("parked: base of %s: %w", e.Key, err)
	}
	for _, b := range entries {
		if !b.State.Billed() {
			return fmt.Sprintf("the period's file %s is %s: resubmit it first (its supplements follow it)", b.Key, b.State), nil
		}
	}
	return "", nil
}
