package lineage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// MaxFileRecordEvents is the most records of a file whose events ExplainFile reads (each is a partition scan).
const MaxFileRecordEvents = 100

// FileQuery names a usage file: its Connect file id (UF-…) or its ledger key (file.…: a file parked before
// Connect had one, too); Events asks for the events of each record too.
type FileQuery struct {
	ID     string `json:"id"`
	Events bool   `json:"events,omitempty"`
}

// ExplainFile finds a usage file's ledger entry, its history (operators' moves and actions included) and the
// records it holds (and with q.Events, their events).
func (s *Service) ExplainFile(ctx context.Context, q FileQuery) (*FileAnswer, error) {
	if !strings.HasPrefix(q.ID, "UF-") && !strings.HasPrefix(q.ID, ledger.FilesPrefix) {
		return nil, fmt.Errorf("%w: %q is neither a Connect usage file id (UF-…) nor a ledger key (file.…)", ErrBadQuery, q.ID)
	}
	fc, err := s.partitions(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.entryOf(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	a := &FileAnswer{Query: q.ID, File: *s.fileRef(ctx, e, nil), History: e.History, PreviousFiles: e.PreviousFiles}
	if a.Actions, err = s.actionsOn(ctx, e); err != nil {
		return nil, err
	}
	recs, err := s.partRecords(ctx, e)
	if err != nil {
		return nil, err
	}
	withEvents := q.Events && len(recs) <= MaxFileRecordEvents
	if q.Events && !withEvents {
		a.Note = fmt.Sprintf("%d records: events are read for files of at most %d records; explain a record with --record",
			len(recs), MaxFileRecordEvents)
	}
	for _, r := range recs {
		ra := RecordAnswer{Query: r.RecordID, Record: *r}
		if withEvents {
			if ra.Events, err = s.recordEvents(ctx, fc, r); err != nil {
				return nil, err
			}
		}
		ra.Summary = recordSummary(r, nil, "", ra.Events)
		a.Events += r.Record.Events
		a.Records = append(a.Records, ra)
	}
	a.Summary = fmt.Sprintf("%s: %s; %d records, %d events", q.ID, fileText(&a.File), len(a.Records), a.Events)
	if n := len(a.Actions); n > 0 {
		last := a.Actions[n-1]
		a.Summary += fmt.Sprintf("; %d operator %s, the last %s by %s at %s", n, plural(n, "action", "actions"), last.Action,
			last.Actor, stamp(last.At))
	}
	return a, nil
}

// entryOf finds the ledger entry a file query names: by its key, or by its Connect file.
func (s *Service) entryOf(ctx context.Context, id string) (*ledger.Entry, error) {
	if !strings.HasPrefix(id, ledger.FilesPrefix) {
		return s.entryOfFile(ctx, id)
	}
	e, _, err := s.ledger.Get(ctx, id)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return nil, fmt.Errorf("%w: the ledger has no entry %s", ErrNotFound, id)
	case err != nil:
		return nil, fmt.Errorf("lineage: ledger: %w", err)
	}
	return e, nil
}

// actionsOn reads the operators' actions on e from its period's action log: those on its key, and on its
// revision's parked key (a retry).
func (s *Service) actionsOn(ctx context.Context, e *ledger.Entry) ([]ledger.Action, error) {
	all, err := s.ledger.Actions(ctx, e.Product, e.Contract, e.PeriodStart)
	if err != nil {
		return nil, fmt.Errorf("lineage: action log: %w", err)
	}
	parked := ledger.ParkedKey(e.ID())
	var out []ledger.Action
	for _, x := range all {
		if x.Target == e.Key || x.Target == parked {
			out = append(out, x)
		}
	}
	return out, nil
}
