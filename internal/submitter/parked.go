package submitter

import (
	"context"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// noteParked writes the parked key of e's revision if e is parked without a file and the key is missing
// (ledger.Store.NotePark). A failure is logged: the next scan that reads e, or the next start, tries again.
func (s *Submitter) noteParked(ctx context.Context, e *ledger.Entry) {
	if err := s.ledger.NotePark(ctx, e); err != nil {
		s.log.WarnContext(ctx, "submitter: could not note a parked revision", "key", e.Key, "err", err)
	}
}
