package submitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// A create whose outcome is unknown (usageapi.ErrAmbiguousCreate: a lost answer, a timeout in flight, a
// 5xx) may have made the file, and Connect's list by external id may lag behind a create. So after a
// find-or-create step that failed that way, the next createRelists steps only look the file up (each a
// step of its own, relistFirst, then doubling, apart: 250 ms, 500 ms, 1 s), and the step after them is a
// find-or-create with usageapi.WaitLag: its lookup waits out the client's list lag before it creates, and
// so does its check for an older duplicate after creating. ledger.Entry.Relists counts these lookups down, the
// find-or-create's own included. A submitter that crashed mid-create restarts, or is replaced once the
// lease expires, which gives the list the same time.
const (
	createRelists = 3
	relistFirst   = 250 * time.Millisecond
)

// reasonFilterIgnored parks an entry whose lookup by external id answered files of other external ids:
// Connect ignored the filter, so a "not found" could not be trusted and a create could duplicate a file.
const reasonFilterIgnored = "filter_ignored"

// liveFiles lists the Connect files with external id x that are not deleted, oldest first.
func (d *driver) liveFiles(ctx context.Context, x string) ([]usageapi.File, error) {
	files, err := d.connect.FindFiles(ctx, x)
	if err != nil {
		return nil, fmt.Errorf("submitter: look up external id %s: %w", x, err)
	}
	return files, nil
}

// filterIgnored turns a lookup that Connect answered with other files (usageapi.ErrFilterIgnored) into a
// permanent failure of its own reason; other errors are returned as they are.
func filterIgnored(err error) error {
	if errors.Is(err, usageapi.ErrFilterIgnored) && !errors.Is(err, errPermanent) {
		return permanent(reasonFilterIgnored, err)
	}
	return err
}

// findOrCreate finds the entry's file by its external id or creates it; with lagged, the lookups wait out
// the list lag (the step after the relists). A failure of unknown outcome starts the relists again.
func (d *driver) findOrCreate(ctx context.Context, e *ledger.Entry, lagged bool) (*usageapi.FileDetail, error) {
	var opts []usageapi.LookupOption
	if lagged {
		opts = append(opts, usageapi.WaitLag)
	}
	period := connectPeriod(e.PeriodStart, e.PeriodEnd)
	f, _, err := d.connect.FindOrCreateFile(ctx, usageapi.CreateFileRequest{
		Name: e.Name, Description: fileDescription(e.ID(), e.PeriodEnd, e.Records), Period: &period,
		Currency: e.Spec.Currency, Product: &usageapi.IDRef{ID: e.Product}, Contract: &usageapi.IDRef{ID: e.Contract},
		ExternalID: e.ExternalID,
	}, opts...)
	e.Relists = 0
	if errors.Is(err, usageapi.ErrAmbiguousCreate) {
		e.Relists = createRelists + 1 // look before creating again
	}
	return f, err
}

// relist looks the entry's file up once, in one of the steps after a find-or-create of unknown outcome.
// Found, the entry takes the oldest such file; otherwise the next look, or at the last the lag-aware
// find-or-create, comes a little later.
func (d *driver) relist(ctx context.Context, e *ledger.Entry) error {
	files, err := d.liveFiles(ctx, e.ExternalID)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		f, err := d.connect.GetFile(ctx, files[0].ID)
		if err != nil {
			return err
		}
		e.Relists = 0
		return d.observe(e, f)
	}
	e.Relists--
	e.NextAt = d.now().Add(relistFirst << (createRelists - e.Relists)).UTC()
	return nil
}
