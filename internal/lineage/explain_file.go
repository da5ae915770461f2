package lineage

import (
	"context"
	"fmt"
	"strings"
)

// MaxFileRecordEvents is the most records of a file whose events ExplainFile reads (each is a partition scan).
const MaxFileRecordEvents = 100

// FileQuery names a Connect usage file (UF-…); Events asks for the events of each record too.
type FileQuery struct {
	ID     string `json:"id"`
	Events bool   `json:"events,omitempty"`
}

// ExplainFile finds a usage file's ledger entry and the records it holds (and with q.Events, their events).
func (s *Service) ExplainFile(ctx context.Context, q FileQuery) (*FileAnswer, error) {
	if !strings.HasPrefix(q.ID, "UF-") {
		return nil, fmt.Errorf("%w: %q is not a Connect usage file id (UF-…)", ErrBadQuery, q.ID)
	}
	fc, err := s.partitions(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.entryOfFile(ctx, q.ID)
	if err != nil {
		return nil, err
	}
	a := &FileAnswer{Query: q.ID, File: *s.fileRef(ctx, e, nil)}
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
	return a, nil
}
