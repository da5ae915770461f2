package usageapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrNoExternalID is returned by FindOrCreateFile and FindFiles for an empty external_id.
var ErrNoExternalID = errors.New("usageapi: find-or-create needs an external_id")

// ErrFilterIgnored is wrapped by the error of FindFiles and FindOrCreateFile when the lookup by external_id
// answers files with another external_id: the server ignored the filter (django-rql drops filters it does
// not know), so "not found" could not be trusted and a create could duplicate a file. It is permanent.
var ErrFilterIgnored = errors.New("usageapi: the server ignored the external_id filter")

// FindOrCreateFile returns the usage file whose external_id is req.ExternalID, creating it if
// there is none. It never creates blindly: it lists by external_id first, and after any failed
// create that may have reached Connect (timeout, reset, 5xx, lost answer) it lists again before
// another create. Deleted files do not count. created reports whether this call's create made
// the file (including a create whose answer was lost and which the lookup then found).
//
// After a create that may have happened (in this call, or with WaitLag in an earlier one) the lookup is
// repeated after short waits, for up to RetryPolicy.ListLag, before another create, since a list may lag
// behind a create. A lookup that answers files of other external ids fails the call with ErrFilterIgnored
// (logged as an error) instead of creating. A call that ends while one of its creates may have made the
// file, unresolved, fails with an error wrapping ErrAmbiguousCreate: look again (WaitLag) before creating.
//
// Connect does not enforce unique external ids, so two concurrent callers could both create;
// after a create the file is therefore looked up again, and if an older file with the same
// external_id exists, the one just created is deleted and the older one returned; after a create of
// unknown outcome, that check waits out the list lag too. Callers should still drive each external_id
// from one owner (the submitter's ledger does).
func (c *Client) FindOrCreateFile(ctx context.Context, req CreateFileRequest, opts ...LookupOption) (f *FileDetail, created bool, err error) {
	if req.ExternalID == "" {
		return nil, false, ErrNoExternalID
	}
	lag := slices.Contains(opts, WaitLag)
	fc := &findOrCreate{c: c, req: req, lookup: true, lagged: lag, pending: lag}
	inner := withinRetry(ctx)
	res, err := retry(ctx, c, "FindOrCreateFile", func(int) (foundFile, error) { return fc.attempt(inner) })
	if err != nil && fc.pending && !errors.Is(err, ErrAmbiguousCreate) {
		err = fmt.Errorf("%w: %w", ErrAmbiguousCreate, err)
	}
	return res.f, res.created, err
}

// findOrCreate is the state of one FindOrCreateFile call across its attempts.
type findOrCreate struct {
	c       *Client
	req     CreateFileRequest
	lookup  bool // look the file up before the next create
	lagged  bool // a create may have happened: lookups and the duplicate check wait out the list lag
	pending bool // a create may have made the file and no lookup has settled it since
	sent    bool // this call sent a create
}

type foundFile struct {
	f       *FileDetail
	created bool
}

// attempt looks the file up if it must, else creates it.
func (fc *findOrCreate) attempt(ctx context.Context) (foundFile, error) {
	if fc.lookup {
		files, err := fc.c.lookUp(ctx, fc.req.ExternalID, fc.lagged)
		if err != nil {
			return foundFile{}, err
		}
		if len(files) > 0 {
			return fc.get(ctx, files, fc.sent)
		}
		fc.lookup, fc.pending = false, false // none, even after the lag: no create took effect
	}
	return fc.create(ctx)
}

// create sends one create; after success the file is settled against an older duplicate and read back.
func (fc *findOrCreate) create(ctx context.Context) (foundFile, error) {
	ours := fc.sent && fc.lagged    // an older file may be this call's, from a create of unknown outcome
	fc.sent, fc.lookup = true, true // a failure below is followed by a lookup
	made, err := fc.c.CreateFile(ctx, fc.req)
	if err != nil {
		if errors.Is(err, ErrAmbiguousCreate) {
			fc.lagged, fc.pending = true, true
		}
		return foundFile{}, err
	}
	id := fc.c.settle(ctx, fc.req.ExternalID, made.ID, fc.lagged)
	fc.lagged, fc.pending = true, true // made, but not yet read back: a later lookup may lag behind it
	return fc.get(ctx, []File{{ID: id}}, id == made.ID || ours)
}

// settle resolves a race between creators: if an older live file has the same external id, the file just
// made is deleted and the older one wins. When lagged (a create of unknown outcome came before this one),
// the lookup is repeated after each of lagWaits while it shows no older file, so that a list lagging behind
// that earlier create cannot hide it. Failures here are logged, not returned: the file exists either way.
func (c *Client) settle(ctx context.Context, externalID, made string, lagged bool) string {
	files, err := c.lookAgain(ctx, externalID, lagged, func(files []File) bool {
		return len(files) > 0 && files[0].ID != made
	})
	if err != nil || len(files) == 0 || files[0].ID == made {
		return made
	}
	winner := files[0].ID
	if _, err := c.DeleteFile(ctx, made); err != nil {
		c.log.ErrorContext(ctx, "usageapi: could not delete a duplicate usage file",
			"file", made, "kept", winner, "err", fmt.Sprint(err))
		return made
	}
	c.log.WarnContext(ctx, "usageapi: deleted a duplicate usage file", "file", made, "kept", winner)
	return winner
}

// get reads the oldest of files back; once it is read the call's outcome is known.
func (fc *findOrCreate) get(ctx context.Context, files []File, created bool) (foundFile, error) {
	if len(files) > 1 {
		fc.c.log.WarnContext(ctx, "usageapi: several usage files share an external_id; using the oldest",
			"external_id", fc.req.ExternalID, "count", len(files))
	}
	f, err := fc.c.GetFile(ctx, files[0].ID)
	if err != nil {
		return foundFile{}, err
	}
	fc.pending = false
	return foundFile{f, created}, nil
}
