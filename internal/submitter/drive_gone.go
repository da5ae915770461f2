package submitter

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// fileGone handles Connect answering 404 for the entry's file. Like any refusal it parks the entry only at
// the permanentConfirmations-th failed step in a row, and even then only after a lookup by external id: if
// Connect lists the file itself the 404 was wrong and the step is retried; otherwise the entry is parked
// as failed (file_gone), naming any other live file that holds its external id.
func (d *driver) fileGone(ctx context.Context, e *ledger.Entry, notFound error) error {
	if e.Attempts+1 < permanentConfirmations {
		return notFound
	}
	files, err := d.liveFiles(ctx, e.ExternalID)
	if err != nil {
		return fmt.Errorf("submitter: after a 404 for %s: %w", e.FileID, err)
	}
	var others []string
	for _, f := range files {
		switch {
		case f.ID == e.FileID:
			return fmt.Errorf("submitter: Connect answered 404 for file %s but lists it (%s): %s", f.ID, f.Status, clip(notFound.Error(), 200))
		default:
			others = append(others, f.ID+" ("+string(f.Status)+")")
		}
	}
	holders := "no live file has it"
	if len(others) > 0 {
		slices.Sort(others)
		holders = strings.Join(others, ", ") + " hold(s) it"
	}
	return permanent("file_gone", fmt.Errorf("the Connect file %s answered 404 %d times in a row; of its external id %s, %s",
		e.FileID, e.Attempts+1, e.ExternalID, holders))
}
