package submitter

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// The planner's durable consumers of USAGE_AGG (consumeMarks, consumeAdjustments) are shared by every
// submitter instance. Each delivery is settled here once handled.

// Durable consumers of USAGE_AGG, shared by every submitter instance.
const (
	durableMarks       = "submitter-marks"
	durableAdjustments = "submitter-adjustments"
	// consumerPull keeps few messages buffered per instance, since one can take seconds (PullMaxMessages ×
	// handler time ≪ AckWait).
	consumerPull = 16
	// maxNakDelay caps the redelivery delay of a message whose planning failed.
	maxNakDelay = time.Minute
	// maxHoldDelay caps the redelivery delay of a held adjustment message (holdError): how long a period
	// waits at most when the nudge that should plan its supplement was lost (a process killed).
	maxHoldDelay = 30 * time.Second
	minHoldDelay = 100 * time.Millisecond
)

// errMalformed marks a message that can never be planned (it does not decode): it is terminated, not
// redelivered, and logged.
var errMalformed = errors.New("submitter: malformed message")

// waitError asks for a redelivery after delay without counting a failure (supplement batching).
type waitError struct{ delay time.Duration }

func (w waitError) Error() string { return "submitter: wait " + w.delay.String() }

// holdError asks for a redelivery after delay without counting a failure: the newest adjustment message of
// a period whose next supplement waits for the file before it (plan_supplements.go, holding). A driver's
// nudge usually plans the supplement first; the redelivery is what plans it when no nudge came (the process
// whose driver handed the file over was killed in between).
type holdError struct{ delay time.Duration }

func (h holdError) Error() string { return "submitter: held for " + h.delay.String() }

// settle runs handle and settles the delivery: Ack on success, Term for a malformed message, otherwise Nak
// with a delay (the wait asked for, or a backoff by delivery count) so that a failing message is never
// retried in a hot loop and never lost. Nothing is settled when ctx ended (redelivered after AckWait).
func (pl *planner) settle(handle func(context.Context, *bus.Delivery) error) func(context.Context, *bus.Delivery) {
	return func(ctx context.Context, d *bus.Delivery) {
		err := handle(ctx, d)
		var wait waitError
		var hold holdError
		switch {
		case err == nil:
			if err := d.Ack(ctx); err != nil {
				pl.log.WarnContext(ctx, "submitter: ack failed (will be redelivered)", "subject", d.Subject, "err", err)
			}
		case ctx.Err() != nil:
		case errors.Is(err, errMalformed):
			pl.log.ErrorContext(ctx, "submitter: terminating malformed message", "subject", d.Subject, "seq", d.Seq, "err", err)
			_ = d.Term(err.Error())
		case errors.As(err, &wait):
			_ = d.Nak(wait.delay)
		case errors.As(err, &hold):
			pl.log.DebugContext(ctx, "submitter: supplement held until the file before it is submitted", "subject", d.Subject,
				"seq", d.Seq, "retry_in", hold.delay)
			_ = d.Nak(hold.delay)
		default:
			pl.ins.planErrors.Add(ctx, 1)
			delay := nakDelay(d.NumDelivered)
			pl.log.WarnContext(ctx, "submitter: planning failed; redelivery later", "subject", d.Subject, "seq", d.Seq,
				"delivered", d.NumDelivered, "retry_in", delay, "err", err)
			_ = d.Nak(delay)
		}
	}
}

// nakDelay is 1s, 2s, 4s, … by delivery count, capped at maxNakDelay.
func nakDelay(delivered uint64) time.Duration {
	d := time.Second
	for i := uint64(1); i < delivered && d < maxNakDelay; i++ {
		d *= 2
	}
	return min(d, maxNakDelay)
}

// alive returns a function that resets d's AckWait when a third of it has passed since the last reset.
func (pl *planner) alive(d *bus.Delivery) func() {
	last := time.Now()
	return func() {
		if time.Since(last) > pl.ackWait/3 {
			_ = d.InProgress()
			last = time.Now()
		}
	}
}
