package submitter

import (
	"errors"
	"fmt"
)

var (
	// errBadTransition: a move the ledger's transition table forbids (Entry.moveTo).
	errBadTransition = errors.New("submitter: transition not allowed")
	// errIncomplete: the stream holds fewer closed records of a period than its marks count; planning is
	// retried later.
	errIncomplete = errors.New("submitter: period records incomplete")
	// errPermanent marks a failure that retrying cannot fix: the entry is parked as failed.
	errPermanent = errors.New("submitter: permanent failure")
)

// permanent wraps err as a permanent failure with its reason.
func permanent(reason string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", errPermanent, reason)
	}
	return fmt.Errorf("%w: %s: %w", errPermanent, reason, err)
}
