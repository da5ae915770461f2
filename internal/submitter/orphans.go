package submitter

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// An orphan is a live Connect file with a usagepipe external id that its ledger entry does not drive: the
// entry names another file (a duplicate made when a list lagged behind a create, or by hand). Every
// OrphanInterval the submitter lists the open files (not accepted, closed, rejected or deleted) with a
// usagepipe external id and checks each against its entry: an orphan draft is deleted (it holds no usage
// yet); any other orphan, or a file without a ledger entry, is reported (error log,
// usagepipe_submitter_orphans_total{action}) for an operator. Entries that name no file yet are left
// alone: their next step finds the file.

// Orphan actions (metric attribute).
const (
	orphanDeleted  = "deleted"  // an orphan draft, deleted
	orphanReported = "reported" // an orphan past draft: left for an operator
	orphanUnknown  = "unknown"  // no ledger entry has its external id: left for an operator
)

// sweepOrphans runs sweep every OrphanInterval until ctx ends.
func (s *Submitter) sweepOrphans(ctx context.Context) error {
	t := time.NewTicker(s.opts.OrphanInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "submitter: orphan sweep failed (tried again later)", "err", err)
		}
	}
}

// sweep checks every open Connect file with a usagepipe external id against the ledger once.
func (s *Submitter) sweep(ctx context.Context) error {
	files, err := s.client.Files(usageapi.Like("external_id", usageapi.LikeLiteral(ledger.ExternalIDPrefix)+"*"),
		usageapi.Out("status", usageapi.FileStatusAccepted, usageapi.FileStatusClosed, usageapi.FileStatusRejected,
			usageapi.FileStatusDeleted)).Collect(ctx)
	if err != nil {
		return err
	}
	var byExternalID map[string]string // for hashed external ids: built from the ledger when first needed
	for i := range files {
		f := &files[i]
		key, ok := keyOf(f.ExternalID)
		if !ok {
			if byExternalID == nil {
				if byExternalID, err = s.externalIDs(ctx); err != nil {
					return err
				}
			}
			key = byExternalID[f.ExternalID]
		}
		if err := s.checkOrphan(ctx, f, key); err != nil {
			return err
		}
	}
	return nil
}

// checkOrphan compares one Connect file with the ledger entry at key ("" or missing: none).
func (s *Submitter) checkOrphan(ctx context.Context, f *usageapi.File, key string) error {
	e, _, err := s.ledger.Get(ctx, key)
	switch {
	case key == "" || errors.Is(err, bus.ErrNotFound):
		s.orphan(ctx, f, "", orphanUnknown)
		return nil
	case err != nil:
		return err
	case e.FileID == "" || e.FileID == f.ID:
		return nil
	case f.Status != usageapi.FileStatusDraft:
		s.orphan(ctx, f, e.FileID, orphanReported)
		return nil
	}
	if _, err := s.client.DeleteFile(ctx, f.ID); err != nil {
		return err
	}
	s.orphan(ctx, f, e.FileID, orphanDeleted)
	return nil
}

// orphan reports one orphan.
func (s *Submitter) orphan(ctx context.Context, f *usageapi.File, ledgerFile, action string) {
	s.ins.orphans.Add(ctx, 1, metric.WithAttributes(attribute.String("action", action)))
	s.log.ErrorContext(ctx, "orphan usage file in Connect: its ledger entry drives another file", "file_id", f.ID,
		"external_id", f.ExternalID, "status", f.Status, "ledger_file_id", ledgerFile, "action", action)
}

// keyOf is the ledger key of an external id in its readable form (ledger.ParseExternalID); false for
// another form (the sha256 one).
func keyOf(x string) (string, bool) {
	id, ok := ledger.ParseExternalID(x)
	if !ok {
		return "", false
	}
	return id.Key(), true
}

// externalIDs maps the external id of every ledger entry to its key.
func (s *Submitter) externalIDs(ctx context.Context) (map[string]string, error) {
	entries, err := s.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.ExternalID] = e.Key
	}
	return out, nil
}
