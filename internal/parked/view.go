package parked

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Actions an operator can take.
const (
	ActionRetry    = "retry"
	ActionResubmit = "resubmit"
	ActionAbandon  = "abandon"
)

// View is one parked (or, listed with All, abandoned) entry, what parked it, and what can be done.
type View struct {
	Key       string          `json:"key"`
	State     ledger.State    `json:"state"`
	Reason    string          `json:"reason"` // a code: rejected, records_missing, file_gone, base_rejected…
	Since     time.Time       `json:"since"`  // when it entered its state
	FileID    string          `json:"file_id,omitempty"`
	ParkedKey string          `json:"parked_key,omitempty"` // its revision's, when it was parked without a file
	Can       []string        `json:"can"`
	Hint      string          `json:"hint"`
	Entry     *ledger.Entry   `json:"entry"`
	History   []ledger.Action `json:"history,omitempty"` // the period's action log (Show)
}

// ListFilter selects parked entries; zero fields select every one.
type ListFilter struct {
	All     bool   // abandoned entries too
	Product string // of this product
	Reason  string // with this reason code
}

// List returns the parked entries f selects, in key order.
func (s *Service) List(ctx context.Context, f ListFilter) (Views, error) {
	entries, err := s.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("parked: %w", err)
	}
	var out Views
	for _, e := range entries {
		v := view(e)
		if !e.State.Parked() && !(f.All && e.State == ledger.StateAbandoned) ||
			f.Product != "" && e.Product != f.Product || f.Reason != "" && v.Reason != f.Reason {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// Show returns one entry, named by its file key, its revision's parked key, or its Connect file id (UF-…),
// with the period's action log.
func (s *Service) Show(ctx context.Context, key string) (*View, error) {
	e, _, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	v := view(e)
	if v.History, err = s.ledger.Actions(ctx, e.Product, e.Contract, e.PeriodStart); err != nil {
		return nil, fmt.Errorf("parked: action log: %w", err)
	}
	return &v, nil
}

// view describes e.
func view(e *ledger.Entry) View {
	v := View{Key: e.Key, State: e.State, Reason: reasonCode(e), FileID: e.FileID, Entry: e}
	if n := len(e.History); n > 0 {
		v.Since = e.History[n-1].At
	}
	if e.ParkedWithoutFile() {
		v.ParkedKey = ledger.ParkedKey(e.ID())
	}
	switch {
	case e.State == ledger.StateAbandoned:
		v.Hint = "abandoned on purpose; nothing to do"
	case e.ParkedWithoutFile():
		v.Can, v.Hint = []string{ActionRetry, ActionAbandon}, "fix the cause, then retry (the revision is planned again)"
	case e.State.Parked():
		v.Can, v.Hint = []string{ActionResubmit, ActionAbandon}, "fix the cause (in Connect, the catalog), then resubmit the file"
	}
	return v
}

// reasonCode is the short reason of a parked entry: rejected for a provider's rejection, else the code of its
// permanent failure (the first word of its reason after the submitter's prefix).
func reasonCode(e *ledger.Entry) string {
	switch e.State {
	case ledger.StateRejected:
		return "rejected"
	case ledger.StateAbandoned:
		return "abandoned"
	}
	r := e.Reason
	if i := strings.LastIndex(r, "permanent failure: "); i >= 0 {
		r = r[i+len("permanent failure: "):]
	}
	code, _, _ := strings.Cut(r, ":")
	if strings.ContainsAny(code, " ") {
		return "failed"
	}
	return code
}

// resolve finds the entry a key names: a file key, a parked key (its first part parked without a file), or
// a Connect file id.
func (s *Service) resolve(ctx context.Context, key string) (*ledger.Entry, uint64, error) {
	switch {
	case strings.HasPrefix(key, ledger.FilesPrefix):
		e, rev, err := s.ledger.Get(ctx, key)
		if err != nil {
			return nil, 0, fmt.Errorf("parked: %s: %w", key, err)
		}
		return e, rev, nil
	case strings.HasPrefix(key, ledger.ParkedPrefix):
		return s.resolveParked(ctx, key)
	case strings.HasPrefix(key, "UF-"):
		return s.resolveFile(ctx, key)
	}
	return nil, 0, fmt.Errorf("parked: %q is not a file key (file.…), a parked key (parked.…) nor a Connect file id (UF-…)", key)
}

// resolveParked finds the entry of a parked key's revision: its first part parked without a file, else its
// first part. A parked key not written yet (the submitters' next scan writes it) is read as the revision it
// names.
func (s *Service) resolveParked(ctx context.Context, key string) (*ledger.Entry, uint64, error) {
	first, err := parkedRevision(ctx, s.ledger, key)
	if err != nil {
		return nil, 0, err
	}
	parts, err := s.ledger.Entries(ctx, ledger.RevisionPrefix(first))
	if err != nil {
		return nil, 0, fmt.Errorf("parked: %s: %w", key, err)
	}
	for _, e := range parts {
		if e.ParkedWithoutFile() {
			return s.resolve(ctx, e.Key)
		}
	}
	if len(parts) > 0 {
		return s.resolve(ctx, parts[0].Key)
	}
	return nil, 0, fmt.Errorf("parked: %s: its revision has no entry now: %w", key, bus.ErrNotFound)
}

// parkedRevision is the part 1 of the revision a parked key names.
func parkedRevision(ctx context.Context, l *ledger.Store, key string) (ledger.FileID, error) {
	p, _, err := l.Parked(ctx, key)
	if err == nil {
		return p.First(), nil
	}
	if !errors.Is(err, bus.ErrNotFound) {
		return ledger.FileID{}, fmt.Errorf("parked: %s: %w", key, err)
	}
	kind, id, perr := ledger.ParseKey(key)
	if perr != nil || kind != ledger.KindParked {
		return ledger.FileID{}, fmt.Errorf("parked: %s: %w", key, err)
	}
	id.Part = 1
	return id, nil
}

func (s *Service) resolveFile(ctx context.Context, id string) (*ledger.Entry, uint64, error) {
	entries, err := s.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, 0, fmt.Errorf("parked: %w", err)
	}
	for _, e := range entries {
		if e.FileID == id {
			return s.resolve(ctx, e.Key)
		}
	}
	return nil, 0, fmt.Errorf("parked: no ledger entry has Connect file %s: %w", id, bus.ErrNotFound)
}
