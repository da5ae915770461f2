package usageapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// callBackOff is the BackOff of one call: exponential with jitter, floored by the server's
// Retry-After hint, and stopped by MaxAttempts, MaxElapsedTime (hint included), the context or
// a context deadline that would pass during the wait. Like backoff's own types it is not
// thread-safe: each call builds its own.
type callBackOff struct {
	exp         *backoff.ExponentialBackOff
	ctx         context.Context
	clock       Clock
	maxElapsed  time.Duration
	maxAttempts int
	start       time.Time
	failures    int
	hint        time.Duration // set by the operation from Retry-After, consumed by NextBackOff
}

func newCallBackOff(ctx context.Context, p RetryPolicy, clock Clock) *callBackOff {
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(p.InitialInterval),
		backoff.WithMaxInterval(p.MaxInterval),
		backoff.WithMultiplier(p.Multiplier),
		backoff.WithRandomizationFactor(p.RandomizationFactor),
		backoff.WithMaxElapsedTime(0), // enforced below, hint included
		backoff.WithClockProvider(clock),
	)
	return &callBackOff{exp: exp, ctx: ctx, clock: clock, maxElapsed: p.MaxElapsedTime, maxAttempts: p.MaxAttempts}
}

// Context lets backoff.Retry see the call's context, so a cancelled context ends the wait.
// Without it Retry would fall back to context.Background and sleep uncancellably.
func (b *callBackOff) Context() context.Context { return b.ctx }

// Reset implements backoff.BackOff; Retry calls it first.
func (b *callBackOff) Reset() {
	b.exp.Reset()
	b.start, b.failures, b.hint = b.clock.Now(), 0, 0
}

// NextBackOff implements backoff.BackOff.
func (b *callBackOff) NextBackOff() time.Duration {
	b.failures++
	hint := b.hint
	b.hint = 0
	if b.ctx.Err() != nil || (b.maxAttempts > 0 && b.failures >= b.maxAttempts) {
		return backoff.Stop
	}
	d := b.exp.NextBackOff()
	if d == backoff.Stop {
		return d
	}
	d = max(d, hint)
	end := b.clock.Now().Add(d)
	if end.Sub(b.start) > b.maxElapsed {
		return backoff.Stop
	}
	if dl, ok := b.ctx.Deadline(); ok && end.After(dl) {
		return backoff.Stop
	}
	return d
}

// retry runs attempt (numbered from 1) until it succeeds, fails with an error Retryable rejects,
// or the policy gives up; then it returns the last error. If the context ends first, the error
// wraps both the context's error and the last attempt's.
func retry[T any](ctx context.Context, c *Client, op string, attempt func(n int) (T, error)) (T, error) {
	if ctx.Value(withinRetryKey{}) != nil {
		return attempt(1)
	}
	b := newCallBackOff(ctx, c.retry, c.clock)
	var (
		n    int
		last error
		hint time.Duration
	)
	wrapped := func() (T, error) {
		n++
		v, err := attempt(n)
		if err == nil {
			return v, nil
		}
		last, hint = err, retryAfterOf(err)
		if !Retryable(err) {
			return v, backoff.Permanent(err)
		}
		b.hint = hint
		return v, err
	}
	notify := func(err error, wait time.Duration) { c.notifyRetry(ctx, RetryEvent{op, n, err, wait, hint}) }
	v, err := backoff.RetryNotifyWithTimerAndData(wrapped, b, notify, &clockTimer{clock: c.clock})
	if cerr := ctx.Err(); cerr != nil && last != nil && errors.Is(err, cerr) && !errors.Is(last, cerr) {
		err = fmt.Errorf("usageapi: %s: %w (last attempt: %w)", op, err, last)
	}
	return v, err
}

func retryAfterOf(err error) time.Duration {
	var e *APIError
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

func (c *Client) notifyRetry(ctx context.Context, ev RetryEvent) {
	c.log.WarnContext(ctx, "usageapi: retrying", "op", ev.Op, "attempt", ev.Attempt,
		"wait", ev.Wait, "retry_after", ev.RetryAfter, "err", ev.Err.Error())
	if c.retry.OnRetry != nil {
		c.retry.OnRetry(ctx, ev)
	}
}

type withinRetryKey struct{}

// withinRetry marks ctx for calls made inside the attempt of an enclosing retry loop: they make
// a single attempt and leave retrying to the enclosing loop, so one budget bounds the whole call.
func withinRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, withinRetryKey{}, true)
}
