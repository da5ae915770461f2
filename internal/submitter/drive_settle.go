package submitter

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Retry schedule of failed steps: 1s, 2s, 4s, … up to RetryMaxInterval, ±20% jitter, never before the
// server's Retry-After.
const (
	retryInitial = time.Second
	retryJitter  = 0.2
	// permanentConfirmations is how many times in a row Connect must refuse a step (a 4xx that retrying
	// cannot change) before the entry is parked: each retry first re-reads the file, so a refusal caused by
	// a stale view of it is not mistaken for a permanent one.
	permanentConfirmations = 3
)

// settleStep records the outcome of a step: on success the retry state is cleared and the lease renewed (or
// released when the entry is terminal); a transient failure is scheduled for a retry; a permanent one
// parks the entry as failed with its reason.
func (d *driver) settleStep(ctx context.Context, e *ledger.Entry, op string, err error) {
	now := d.now()
	switch {
	case err == nil:
		e.Attempts, e.LastError = 0, ""
	case isPermanent(err, e.Attempts+1):
		e.Attempts, e.LastError, e.Reason = e.Attempts+1, err.Error(), err.Error()
		_ = e.MoveTo(ledger.StateFailed, now, err.Error())
	default:
		e.Attempts++
		e.LastError = err.Error()
		e.NextAt = now.Add(retryDelay(e.Attempts, retryAfter(err), d.retryMax)).UTC()
		d.ins.retried(ctx, op, retryReason(err))
		d.log.WarnContext(ctx, "usage file step failed; retrying later", "key", e.Key, "op", op, "attempt", e.Attempts,
			"retry_at", e.NextAt, "err", err)
	}
	e.LeaseUntil = now.Add(d.leaseTTL).UTC()
	if e.State.Terminal() {
		e.Owner, e.LeaseUntil, e.NextAt = "", time.Time{}, time.Time{}
	}
}

// isPermanent says whether a step failure parks the entry: local permanent failures at once; Connect's
// refusals (4xx except 401, 403, 408 and 429, which a fixed key or time can change) after
// permanentConfirmations attempts in a row.
func isPermanent(err error, attempts int) bool {
	if errors.Is(err, errPermanent) {
		return true
	}
	switch st := usageapi.StatusOf(err); {
	case st < 400 || st >= 500:
		return false
	case st == http.StatusUnauthorized, st == http.StatusForbidden, st == http.StatusRequestTimeout,
		st == http.StatusTooManyRequests:
		return false
	}
	return attempts >= permanentConfirmations
}

// retryDelay is the wait before retry attempt n.
func retryDelay(n int, hint, maxDelay time.Duration) time.Duration {
	d := retryInitial
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	d = time.Duration(float64(d) * (1 - retryJitter + 2*retryJitter*rand.Float64()))
	return max(d, hint)
}
