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

// FindOrCreateFile returns the usage file whose external_id is req.ExternalID, creating it if
// there is none. It never creates blindly: it lists by external_id first, and after any failed
// create that may have reached Connect (timeout, reset, 5xx, lost answer) it lists again before
// another create. Deleted files do not count. created reports whether this call's create made
// the file (including a create whose answer was lost and which the lookup then found).
//
// Connect does not enforce unique external ids, so two concurrent callers could both create;
// after a create the file is therefore looked up again, and if an older file with the same
// external_id exists, the one just created is deleted and the older one returned. Callers should
// still drive each external_id from one owner (the submitter's ledger does).
func (c *Client) FindOrCreateFile(ctx context.Context, req CreateFileRequest) (f *FileDetail, created bool, err error) {
	if req.ExternalID == "" {
		return nil, false, ErrNoExternalID
	}
	inner, lookup, sent := withinRetry(ctx), true, false
	type result struct {
		f       *FileDetail
		created bool
	}
	res, err := retry(ctx, c, "FindOrCreateFile", func(int) (result, error) {
		if lookup {
			found, err := c.findFile(inner, req.ExternalID)
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

// findFile returns the id of the oldest live file with this external id, or "".
func (c *Client) findFile(ctx context.Context, externalID string) (string, error) {
	files, err := c.Files(Eq("external_id", externalID)).Collect(ctx)
	if err != nil {
		return "", err
	}
	files = slices.DeleteFunc(files, func(f File) bool {
		return f.Status == FileStatusDeleted || f.ExternalID != externalID
	})
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
