package submitter

import (
	"context"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// noteParked writes the parked key of e's revision if e is parked without a file and the key is missing
// (ledger.Store.NotePark). A failure is logged: the next scan that reads e, or the next start, tries again.
func noteParked(ctx context.Context, l *ledger.Store, log *slog.Logger, e *ledger.Entry) {
	if err := l.NotePark(ctx, e); err != nil {
		log.WarnContext(ctx, "submitter: could not note a parked revision", "key", e.Key, "err", err)
	}
}
