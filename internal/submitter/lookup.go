package submitter

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// A create whose outcome is unknown (a lost answer, a timeout, a 5xx) may have made the file, and Connect's
// list by external id may lag behind a create. So after a find-or-create step that failed that way, the
// next createRelists steps only look the file up (each a step of its own, relistFirst, then doubling,
// apart: 250 ms, 500 ms, 1 s), and only then may find-or-create create again. A submitter that crashed
// mid-create restarts, or is replaced once the lease expires, which gives the list the same time.
const (
	createRelists = 3
	relistFirst   = 250 * time.Millisecond
)

// liveFiles lists the Connect files with external id x that are not deleted, oldest first.
func (s *Submitter) liveFiles(ctx context.Context, x string) ([]usageapi.File, error) {
	files, err := s.client.Files(usageapi.Eq("external_id", x)).Collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("submitter: list files with external id %s: %w", x, err)
	}
	files = slices.DeleteFunc(files, func(f usageapi.File) bool {
		return f.ExternalID != x || f.Status == usageapi.FileStatusDeleted
	})
	slices.SortFunc(files, func(a, b usageapi.File) int {
		return cmp.Or(createdAt(a).Compare(createdAt(b)), cmp.Compare(a.ID, b.ID))
	})
	return files, nil
}

func createdAt(f usageapi.File) time.Time {
	if f.Events == nil || f.Events.Created == nil {
		return time.Time{}
	}
	return f.Events.Created.At.UTC()
}

// unknownOutcome reports whether a failed find-or-create may have created the file: no answer, a timeout
// or a server error (a refusal, 4xx, made nothing).
func unknownOutcome(err error) bool {
	st := usageapi.StatusOf(err)
	return st == 0 || st >= 500
}

// relist looks the entry's file up once, in one of the steps after a find-or-create of unknown outcome.
// Found, the entry takes the oldest such file; otherwise the next look, or at the last the next
// find-or-create, comes a little later.
func (s *Submitter) relist(ctx context.Context, e *Entry) error {
	files, err := s.liveFiles(ctx, e.ExternalID)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		f, err := s.client.GetFile(ctx, files[0].ID)
		if err != nil {
			return err
		}
		e.Relists = 0
		return s.observe(e, f)
	}
	e.Relists--
	e.NextAt = s.now().Add(relistFirst << (createRelists - 1 - e.Relists)).UTC()
	return nil
}
