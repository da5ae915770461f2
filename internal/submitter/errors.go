package submitter

import (
	"errors"
)

var (
	// errIncomplete: the stream holds fewer closed records of a period than its marks count; planning is
	// retried for Options.PlanGrace, then the period is parked as failed (records_missing).
	errIncomplete = errors.New("submitter: period records incomplete")
	// errUnknownProduct: the catalog has no such product (the aggregator's catalog is newer, e.g. during a
	// rolling deployment); planning is retried for Options.PlanGrace, then parked as failed (unknown_product).
	errUnknownProduct = errors.New("submitter: product not in the catalog")
	// errPermanent marks a failure that retrying cannot fix: the entry is parked as failed.
	errPermanent = errors.New("submitter: permanent failure")
)

// permanentError is a failure that retrying cannot fix, with its reason (a code such as source_changed, or
// a sentence). It matches errPermanent and the error it wraps.
type permanentError struct {
	reason string
	err    error // nil when the reason says it all
}

func (e *permanentError) Error() string {
	if e.err == nil {
		return errPermanent.Error() + ": " + e.reason
	}
	return errPermanent.Error() + ": " + e.reason + ": " + e.err.Error()
}

func (e *permanentError) Unwrap() []error {
	if e.err == nil {
		return []error{errPermanent}
	}
	return []error{errPermanent, e.err}
}

// permanent wraps err (nil: none) as a permanent failure with its reason.
func permanent(reason string, err error) error { return &permanentError{reason: reason, err: err} }

// reasonOf is the reason of a permanent failure, "" for any other error.
func reasonOf(err error) string {
	var p *permanentError
	if errors.As(err, &p) {
		return p.reason
	}
	return ""
}
