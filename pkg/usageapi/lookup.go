package usageapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// LookupOption changes how FindFiles and FindOrCreateFile look a file up by external_id.
type LookupOption int

// WaitLag says that a create of the external id may have happened moments ago (an earlier call failed
// with ErrAmbiguousCreate). Lists may lag behind a create, so a lookup that finds no file is repeated after
// each of a few short waits, for up to RetryPolicy.ListLag in all, before it is believed. In
// FindOrCreateFile it also makes the check for an older duplicate after the call's own create wait the
// lag out, so that the earlier file, listed late, is kept and the new one deleted.
const WaitLag LookupOption = 1

// findPageSize is the page size of the lookups by external_id: a handful of files at most match.
const findPageSize = 20

// FindFiles returns the live (not deleted) usage files whose external_id is externalID, oldest first
// (creation time, then id), none if there is no such file. Each page is retried like any list. A list
// that answers a file of another external id fails with ErrFilterIgnored (the server ignored the filter,
// so "none" could not be trusted), after one page. With WaitLag, finding none is looked at again after
// short waits (see WaitLag).
func (c *Client) FindFiles(ctx context.Context, externalID string, opts ...LookupOption) ([]File, error) {
	if externalID == "" {
		return nil, ErrNoExternalID
	}
	return c.lookUp(ctx, externalID, slices.Contains(opts, WaitLag))
}

// lagWaits space the lookups that may lag behind a create. The waits double from listLag/8 and add up to
// at most listLag (RetryPolicy.ListLag): 250ms, 500ms and 1s for the default 2s.
func lagWaits(listLag time.Duration) []time.Duration {
	var waits []time.Duration
	for d, sum := listLag/8, time.Duration(0); d > 0 && sum+d <= listLag; d *= 2 {
		waits, sum = append(waits, d), sum+d
	}
	return waits
}

// lookUp is liveFiles, repeated after each of lagWaits while it finds none when lagged.
func (c *Client) lookUp(ctx context.Context, externalID string, lagged bool) ([]File, error) {
	return c.lookAgain(ctx, externalID, lagged, func(files []File) bool { return len(files) > 0 })
}

// lookAgain runs liveFiles, and when lagged repeats it after each of lagWaits until done says the files
// listed settle the question, a lookup fails, or the waits run out; it returns the last answer.
func (c *Client) lookAgain(ctx context.Context, externalID string, lagged bool, done func([]File) bool) ([]File, error) {
	files, err := c.liveFiles(ctx, externalID)
	if !lagged {
		return files, err
	}
	for _, wait := range lagWaits(c.retry.ListLag) {
		if err != nil || done(files) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("usageapi: looking up %q: %w", externalID, ctx.Err())
		case <-c.clock.After(wait):
		}
		files, err = c.liveFiles(ctx, externalID)
	}
	return files, err
}

// liveFiles lists the live files with this external id once, oldest first. It stops at the first file of
// another external id (ErrFilterIgnored) rather than page through every file.
func (c *Client) liveFiles(ctx context.Context, externalID string) ([]File, error) {
	var files []File
	for f, err := range c.Files(Eq("external_id", externalID), Limit(findPageSize)).All(ctx) {
		if err != nil {
			return nil, err
		}
		if f.ExternalID != externalID {
			c.log.ErrorContext(ctx, "usageapi: the lookup by external_id answered another file",
				"external_id", externalID, "file", f.ID, "file_external_id", f.ExternalID)
			return nil, fmt.Errorf("%w: looking up %q answered %s (external_id %q)", ErrFilterIgnored, externalID, f.ID, f.ExternalID)
		}
		if f.Status != FileStatusDeleted {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, olderFile)
	return files, nil
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
