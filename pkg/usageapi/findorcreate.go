package usageapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNoExternalID is returned by FindOrCreateFile for a request without an external_id.
var ErrNoExternalID = errors.New("usageapi: find-or-create needs an external_id")

// ErrFilterIgnored is wrapped by the error of FindOrCreateFile when the lookup by external_id answers
// files with another external_id: the server ignored the filter (django-rql drops filters it does not
// know), so "not found" could not be trusted and a create could duplicate a file. It is permanent.
var ErrFilterIgnored = errors.New("usageapi: the server ignored the external_id filter")

// findPageSize is the page size of the lookups by external_id: a handful of files at most match.
const findPageSize = 20

// lagWaits space the lookups that follow an ambiguous create. A list may lag behind a create (an index),
// so a file created by a request whose answer was lost may not be listed at once: FindOrCreateFile looks
// again after each wait before it concludes that the create did not happen. The waits double from
// listLag/8 and add up to at most listLag (RetryPolicy.ListLag): 250ms, 500ms and 1s for the default 2s.
func lagWaits(listLag time.Duration) []time.Duration {
	var waits []time.Duration
	for d, sum := listLag/8, time.Duration(0); d > 0 && sum+d <= listLag; d *= 2 {
		waits, sum = append(waits, d), sum+d
	}
	return waits
}

// FindOrCreateFile returns the usage file whose external_id is req.ExternalID, creating it if
// there is none. It never creates blindly: it lists by external_id first, and after any failed
// create that may have reached Connect (timeout, reset, 5xx, lost answer) it lists again before
// another create. Deleted files do not count. created reports whether this call's create made
// the file (including a create whose answer was lost and which the lookup then found).
//
// After a create that may have happened (network failure, 5xx) the lookup is repeated after short waits,
// for up to RetryPolicy.ListLag, before another create, since a list may lag behind a create. A lookup that answers files of
// other external ids fails the call with ErrFilterIgnored (logged as an error) instead of creating.
//
// Connect does not enforce unique external ids, so two concurrent callers could both create;
// after a create the file is therefore looked up again, and if an older file with the same
// external_id exists, the one just created is deleted and the older one returned. Callers should
// still drive each external_id from one owner (the submitter's ledger does).
func (c *Client) FindOrCreateFile(ctx context.Context, req CreateFileRequest) (f *FileDetail, created bool, err error) {
	if req.ExternalID == "" {
		return nil, false, ErrNoExternalID
	}
	inner, lookup, lagged, sent := withinRetry(ctx), true, false, false
	type result struct {
		f       *FileDetail
		created bool
	}
	res, err := retry(ctx, c, "FindOrCreateFile", func(int) (result, error) {
		if lookup {
			found, err := c.lookUp(inner, req.ExternalID, lagged)
			if err != nil || found != "" {
				f, err := c.getIfFound(inner, found, err)
				return result{f, sent}, err
			}
			lookup = false
		}
		sent = true
		made, err := c.CreateFile(inner, req)
		if err != nil {
			lookup = Retryable(err) // 429 and ambiguous failures alike: look before creating again
			lagged = lagged || ambiguous(err)
			return result{}, err
		}
		id := c.settle(inner, req.ExternalID, made.ID)
		f, err := c.GetFile(inner, id)
		lookup = err != nil
		return result{f, id == made.ID}, err
	})
	return res.f, res.created, err
}

func (c *Client) getIfFound(ctx context.Context, id string, err error) (*FileDetail, error) {
	if err != nil {
		return nil, err
	}
	return c.GetFile(ctx, id)
}

// lookUp is findFile, repeated after each of lagWaits while it finds nothing, when a create may have
// happened (lagged).
func (c *Client) lookUp(ctx context.Context, externalID string, lagged bool) (string, error) {
	id, err := c.findFile(ctx, externalID)
	if !lagged {
		return id, err
	}
	for _, wait := range lagWaits(c.retry.ListLag) {
		if err != nil || id != "" {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("usageapi: FindOrCreateFile: %w", ctx.Err())
		case <-c.clock.After(wait):
		}
		id, err = c.findFile(ctx, externalID)
	}
	return id, err
}

// findFile returns the id of the oldest live file with this external id, or "". It stops at the first
// file of another external id (ErrFilterIgnored) rather than page through every file.
func (c *Client) findFile(ctx context.Context, externalID string) (string, error) {
	var files []File
	for f, err := range c.Files(Eq("external_id", externalID), Limit(findPageSize)).All(ctx) {
		if err != nil {
			return "", err
		}
		if f.ExternalID != externalID {
			c.log.ErrorContext(ctx, "usageapi: the lookup by external_id answered another file; not creating",
				"external_id", externalID, "file", f.ID, "file_external_id", f.ExternalID)
			return "", fmt.Errorf("%w: looking up %q answered %s (external_id %q)", ErrFilterIgnored, externalID, f.ID, f.ExternalID)
		}
		files = append(files, f)
	}
	files = slices.DeleteFunc(files, func(f File) bool { return f.Status == FileStatusDeleted })
	if len(files) == 0 {
		return "", nil
	}
	if len(files) > 1 {
		c.log.WarnContext(ctx, "usageapi: several usage files share an external_id; using the oldest",
			"external_id", externalID, "count", len(files))
	}
	return slices.MinFunc(files, olderFile).ID, nil
}

// olderFile orders files by creation time, then id.
func olderFile(a, b File) int {
	return cmp.Or(createdAt(a).Compare(createdAt(b)), cmp.Compare(a.ID, b.ID))
}

func createdAt(f File) time.Time {
	if f.Events == nil || f.Events.Created == nil {
		return time.Time{}
	}
	return f.Events.Created.At
}

// settle resolves a race between creators: if an older live file has the same external id, the
// file just made is deleted and the older one wins. Failures here are logged, not returned: the
// file exists either way.
func (c *Client) settle(ctx context.Context, externalID, made string) string {
	winner, err := c.findFile(ctx, externalID)
	if err != nil || winner == "" || winner == made {
		return made
	}
	if _, err := c.DeleteFile(ctx, made); err != nil {
		c.log.ErrorContext(ctx, "usageapi: could not delete a duplicate usage file",
			"file", made, "kept", winner, "err", fmt.Sprint(err))
		return made
	}
	c.log.WarnContext(ctx, "usageapi: deleted a duplicate usage file", "file", made, "kept", winner)
	return winner
}
