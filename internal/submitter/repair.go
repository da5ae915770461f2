package submitter

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// repair handles an invalid file: it reads Connect's processed workbook, dead-letters the records marked
// invalid (with Connect's error text) and excludes them, so that the next step uploads the rest. A file
// invalid as a whole (no record marked) is parked as failed with Connect's error detail.
func (s *Submitter) repair(ctx context.Context, e *Entry) error {
	f, err := s.client.GetFile(ctx, e.FileID)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if f.Status != usageapi.FileStatusInvalid || !uploadedAt(f).Equal(e.InvalidUploadAt) {
		return s.observe(e, f) // re-uploaded or changed meanwhile
	}
	failing, err := s.failingRecords(ctx, f)
	if err != nil {
		return err
	}
	if len(failing) == 0 {
		return permanent("invalid_file", fmt.Errorf("Connect file %s is invalid without an invalid record: %s", f.ID, f.ErrorDetail))
	}
	part, err := s.partSources(ctx, e)
	if err != nil {
		return err
	}
	return s.exclude(ctx, e, part, failing, reasonConnectInvalid)
}

// failingRecords reads the processed workbook of f: record id → error text of each invalid row.
func (s *Submitter) failingRecords(ctx context.Context, f *usageapi.FileDetail) (map[string]string, error) {
	if f.ProcessedFileURI == "" {
		return nil, permanent("invalid_file", fmt.Errorf("Connect file %s is invalid without a processed workbook: %s", f.ID, f.ErrorDetail))
	}
	data, err := s.client.Download(ctx, f.ProcessedFileURI)
	if err != nil {
		return nil, err
	}
	wb, err := usagefile.Read(bytes.NewReader(data), usagefile.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("submitter: processed workbook of %s: %w", f.ID, err)
	}
	failing := map[string]string{}
	for _, r := range wb.Records {
		if strings.EqualFold(r.Status, usagefile.StatusInvalid) && r.RecordID != "" {
			failing[r.RecordID] = cmpOr(r.Error, "invalid")
		}
	}
	return failing, nil
}

// exclude dead-letters the records of part named in failing that are not excluded yet, then records them
// as excluded: the entry moves to repairing (the rest is uploaded next) or, when nothing is left, to
// empty. Dead letters go first, so a crash in between dead-letters again (with the same Nats-Msg-Id)
// rather than never. A repair that finds nothing new, or would exclude more than MaxExcluded records,
// parks the entry instead.
func (s *Submitter) exclude(ctx context.Context, e *Entry, part []source, failing map[string]string, reason events.Reason) error {
	var fresh []source
	for _, src := range part {
		if _, bad := failing[src.id]; bad {
			fresh = append(fresh, src)
		}
	}
	switch {
	case len(fresh) == 0:
		return permanent("invalid_again", fmt.Errorf("no new failing record among %d named: %s", len(failing),
			clip(strings.Join(slices.Sorted(maps.Values(failing)), "; "), 300)))
	case len(e.Excluded)+len(fresh) > s.opts.MaxExcluded:
		return permanent("too_many_invalid", fmt.Errorf("%d records would be dead-lettered (limit %d); first error: %s",
			len(e.Excluded)+len(fresh), s.opts.MaxExcluded, failing[fresh[0].id]))
	}
	if err := s.deadLetter(ctx, e, fresh, failing, reason); err != nil {
		return err
	}
	for _, src := range fresh {
		e.Excluded = append(e.Excluded, src.id)
	}
	slices.Sort(e.Excluded)
	note := fmt.Sprintf("%d records dead-lettered (%s)", len(fresh), reason)
	if len(e.Excluded) >= e.Records {
		e.Reason = "every record was dead-lettered"
		return e.moveTo(StateEmpty, s.now(), note)
	}
	return e.moveTo(StateRepairing, s.now(), note)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
