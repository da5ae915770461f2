package submitter

import (
	"context"
	"errors"
	"log/slog"
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

// openFiles models the Connect calls of the orphan sweep (pkg/usageapi.Client): a filtered list of files,
// and the delete of an orphan draft.
type openFiles interface {
	Files(terms ...usageapi.Term) usageapi.List[usageapi.File]
	DeleteFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
}

// orphanSweeper checks Connect's open usagepipe files against the ledger every OrphanInterval.
type orphanSweeper struct {
	connect  openFiles
	ledger   *ledger.Store // set by Submitter.useLedger
	interval time.Duration
	log      *slog.Logger
	ins      *instruments
}

// Orphan actions (metric attribute).
const (
	orphanDeleted  = "deleted"  // an orphan draft, deleted
	orphanReported = "reported" // an orphan past draft: left for an operator
	orphanUnknown  = "unknown"  // no ledger entry has its external id: left for an operator
)

// sweepOrphans runs sweep every OrphanInterval until ctx ends.
func (sw *orphanSweeper) sweepOrphans(ctx context.Context) error {
	t := time.NewTicker(sw.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := sw.sweep(ctx); err != nil && ctx.Err() == nil {
			sw.log.WarnContext(ctx, "submitter: orphan sweep failed (tried again later)", "err", err)
		}
	}
}

// sweep checks every open Connect file with a usagepipe external id against the ledger once.
func (sw *orphanSweeper) sweep(ctx context.Context) error {
	files, err := sw.connect.Files(usageapi.Like("external_id", usageapi.LikeLiteral(ledger.ExternalIDPrefix)+"*"),
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
				if byExternalID, err = sw.externalIDs(ctx); err != nil {
					return err
				}
			}
			key = byExternalID[f.ExternalID]
		}
		if err := sw.checkOrphan(ctx, f, key); err != nil {
			return err
		}
	}
	return nil
}

// checkOrphan compares one Connect file with the ledger entry at key ("" or missing: none).
func (sw *orphanSweeper) checkOrphan(ctx context.Context, f *usageapi.File, key string) error {
	e, _, err := sw.ledger.Get(ctx, key)
	switch {
	case key == "" || errors.Is(err, bus.ErrNotFound):
		sw.orphan(ctx, f, "", orphanUnknown)
		return nil
	case err != nil:
		return err
	case e.FileID == "" || e.FileID == f.ID:
		return nil
	case f.Status != usageapi.FileStatusDraft:
		sw.orphan(ctx, f, e.FileID, orphanReported)
		return nil
	}
	if _, err := sw.connect.DeleteFile(ctx, f.ID); err != nil {
		return err
	}
	sw.orphan(ctx, f, e.FileID, orphanDeleted)
	return nil
}

// orphan reports one orphan.
func (sw *orphanSweeper) orphan(ctx context.Context, f *usageapi.File, ledgerFile, action string) {
	sw.ins.orphans.Add(ctx, 1, metric.WithAttributes(attribute.String("action", action)))
	sw.log.ErrorContext(ctx, "orphan usage file in Connect: its ledger entry drives another file", "file_id", f.ID,
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
func (sw *orphanSweeper) externalIDs(ctx context.Context) (map[string]string, error) {
	entries, err := sw.ledger.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.ExternalID] = e.Key
	}
	return out, nil
}
