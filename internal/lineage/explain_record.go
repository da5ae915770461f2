package lineage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// RecordQuery names a record: its record id (40 hex characters, the usage file's record_id) or its Connect
// record id (UR-…). Subject and Time narrow the search of a record id (its partition, its period).
type RecordQuery struct {
	ID      string    `json:"id"`
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time,omitzero"`
}

// ExplainRecord finds a record, the file holding it and the events that make it.
func (s *Service) ExplainRecord(ctx context.Context, q RecordQuery) (*RecordAnswer, error) {
	fc, err := s.partitions(ctx)
	if err != nil {
		return nil, err
	}
	a := &RecordAnswer{Query: q.ID}
	var rec *Record
	switch {
	case strings.HasPrefix(q.ID, "UR-"):
		rec, err = s.recordOfConnect(ctx, q.ID)
	case isRecordID(q.ID):
		rec, a.Searched, err = s.findRecordID(ctx, fc, q)
	default:
		return nil, fmt.Errorf("%w: %q is neither a record id (40 hex characters) nor a Connect record id (UR-…)", ErrBadQuery, q.ID)
	}
	if err != nil {
		return a, err
	}
	a.Record = *rec
	if err := s.explainFound(ctx, fc, a); err != nil {
		return a, err
	}
	return a, nil
}

// explainFound adds a found record's file and events.
func (s *Service) explainFound(ctx context.Context, fc aggregator.FoldConfig, a *RecordAnswer) error {
	f, note, err := s.fileOf(ctx, &a.Record)
	if err != nil {
		return err
	}
	a.File = f
	if a.Events, err = s.recordEvents(ctx, fc, &a.Record); err != nil {
		return err
	}
	if err := s.explainRecordReplays(ctx, a, fc.Catalog); err != nil {
		return err
	}
	a.Summary = recordSummary(&a.Record, a.File, note, a.Events) + replaysSummary(a.DeadLetters, a.Replays)
	return nil
}

func isRecordID(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == 40 && strings.ToLower(s) == s
}

// findRecordID looks for a record id among the stored records and adjustments: of the subject's partition and
// the periods containing q.Time when both are given, of the subject's partition when only it is, else of all.
func (s *Service) findRecordID(ctx context.Context, fc aggregator.FoldConfig, q RecordQuery) (*Record, []Span, error) {
	var spans []Span
	for _, filter := range recordFilters(fc, q) {
		rec, sp, err := s.findInSubject(ctx, filter, time.Time{}, func(r *events.PeriodRecord) bool { return r.RecordID() == q.ID }, nil)
		spans = append(spans, sp)
		if err != nil || rec != nil {
			return rec, spans, err
		}
	}
	return nil, spans, fmt.Errorf("%w: record %s is in none of the records and adjustments read", ErrNotFound, q.ID)
}

// recordFilters are the USAGE_AGG subjects a record id is looked for in.
func recordFilters(fc aggregator.FoldConfig, q RecordQuery) []string {
	outputs := []subjects.Output{subjects.Records, subjects.Adjustments}
	var out []string
	if q.Subject == "" {
		return []string{subjects.Records.All(), subjects.Adjustments.All()}
	}
	p := events.Partition(q.Subject, fc.Partitions)
	if q.Time.IsZero() {
		return []string{subjects.Records.InPartition(p), subjects.Adjustments.InPartition(p)}
	}
	for _, o := range outputs {
		for i := range fc.Catalog.Products {
			prod := &fc.Catalog.Products[i]
			for _, c := range prod.Contracts {
				out = append(out, o.Subject(prod.ID, c, prod.PeriodOf(q.Time).Start, p))
			}
		}
	}
	return out
}

// recordOfConnect finds the record behind a Connect record: its file's ledger entry (by the file's
// external_id), then the record of that part with the Connect record's asset, item and tier.
func (s *Service) recordOfConnect(ctx context.Context, id string) (*Record, error) {
	if s.connect == nil {
		return nil, fmt.Errorf("%w: a Connect record id needs Connect (its URL and API key)", ErrBadQuery)
	}
	cr, err := s.connect.GetRecord(ctx, id)
	if err != nil {
		return nil, connectError(id, err)
	}
	if cr.UsageFile == nil || cr.UsageFile.ID == "" {
		return nil, fmt.Errorf("%w: Connect record %s names no usage file", ErrNotFound, id)
	}
	e, err := s.entryOfFile(ctx, cr.UsageFile.ID)
	if err != nil {
		return nil, err
	}
	recs, err := s.partRecords(ctx, e)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		spec := e.Spec.Items[r.Record.Item]
		byAsset := e.Spec.AssetSearch == "" || e.Spec.AssetSearch == events.DefaultAssetSearch
		if itemMatches(cr.Item, spec) && tierOf(*cr) == r.Record.Tier && (!byAsset || assetOf(*cr) == r.Record.Subscription) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: no record of %s (%s) has the asset, item and tier of Connect record %s", ErrNotFound,
		e.Key, cr.UsageFile.ID, id)
}

// entryOfFile finds the ledger entry of a Connect file: by its external_id when Connect is asked, else by a
// scan of the ledger's entries.
// FileEntry returns the ledger entry of a Connect usage file (UF-…): by its external id when Connect is
// asked, else by a scan of the ledger; ErrNotFound when no entry names it.
func (s *Service) FileEntry(ctx context.Context, fileID string) (*ledger.Entry, error) {
	if !strings.HasPrefix(fileID, "UF-") {
		return nil, fmt.Errorf("%w: %q is not a Connect usage file id (UF-…)", ErrBadQuery, fileID)
	}
	return s.entryOfFile(ctx, fileID)
}

func (s *Service) entryOfFile(ctx context.Context, fileID string) (*ledger.Entry, error) {
	if s.connect != nil {
		f, err := s.connect.GetFile(ctx, fileID)
		if err != nil {
			return nil, connectError(fileID, err)
		}
		if id, ok := ledger.ParseExternalID(f.ExternalID); ok {
			e, _, err := s.ledger.Get(ctx, id.Key())
			if err == nil {
				return e, nil
			}
			if !errors.Is(err, bus.ErrNotFound) {
				return nil, fmt.Errorf("lineage: ledger: %w", err)
			}
		}
	}
	entries, err := s.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("lineage: ledger: %w", err)
	}
	for _, e := range entries {
		if e.FileID == fileID {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w: no ledger entry names usage file %s (not a usagepipe file?)", ErrNotFound, fileID)
}

func connectError(id string, err error) error {
	if usageapi.IsNotFound(err) {
		return fmt.Errorf("%w: Connect has no %s", ErrNotFound, id)
	}
	return fmt.Errorf("lineage: Connect %s: %w", id, err)
}

// recordSummary is the one-line answer about a record.
func recordSummary(r *Record, f *FileRef, note string, ev *RecordEvents) string {
	rec := &r.Record
	s := fmt.Sprintf("%s revision %d of %s %s %s period %s: quantity %s, %d events (partition %d, USAGE_AGG seq %d)",
		rec.Kind, rec.Revision, rec.Subscription, rec.Product, rec.Item, stamp(rec.PeriodStart), rec.Quantity, rec.Events,
		rec.Partition, r.Seq)
	if f != nil {
		s += "; " + fileText(f)
	} else if note != "" {
		s += "; " + note
	}
	if ev != nil {
		if ev.Matches {
			s += fmt.Sprintf("; its %d events found in the stream, digest %s matches", ev.Count, ev.Digest)
		} else if ev.Note != "" {
			s += "; " + ev.Note
		}
	}
	return s
}
