package usageapi

import (
	"context"
	"time"
)

// RetryPolicy bounds the retries of one call. Zero fields take the defaults of DefaultRetryPolicy.
// The defaults keep a whole call's waits under 20s, below JetStream's default AckWait (30s),
// so a message handler that calls the client is not redelivered while it retries.
type RetryPolicy struct {
	InitialInterval     time.Duration // first wait before jitter; default 200ms
	MaxInterval         time.Duration // cap of a wait before jitter (a wait reaches 1.5×); default 4s
	MaxElapsedTime      time.Duration // no wait starts that would end past this since the call began; default 20s
	Multiplier          float64       // growth per attempt; default 2
	RandomizationFactor float64       // jitter, wait × (1 ± f); default 0.5; negative means none
	MaxAttempts         int           // attempts in all, 0 = unlimited within MaxElapsedTime; 1 = no retry
	// ListLag is how far a list may lag behind a create: after a create that may have happened,
	// FindOrCreateFile keeps looking for the file for up to this long before creating again; default 2s.
	ListLag time.Duration

	// OnRetry, if set, is called before each wait with the call's context (the submitter adds
	// a span event). It must not block.
	OnRetry func(ctx context.Context, ev RetryEvent)
}

// RetryEvent describes one failed attempt that will be retried.
type RetryEvent struct {
	Op         string        // operation, e.g. "SubmitFile"
	Attempt    int           // the attempt that failed, from 1
	Err        error         // its error (free of secrets)
	Wait       time.Duration // wait before the next attempt
	RetryAfter time.Duration // the server's Retry-After hint, 0 if none; Wait ≥ RetryAfter
}

// DefaultRetryPolicy is the policy of a Client built without WithRetry.
var DefaultRetryPolicy = RetryPolicy{
	InitialInterval:     200 * time.Millisecond,
	MaxInterval:         4 * time.Second,
	MaxElapsedTime:      20 * time.Second,
	Multiplier:          2,
	RandomizationFactor: 0.5,
	ListLag:             2 * time.Second,
}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.InitialInterval <= 0 {
		p.InitialInterval = d.InitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = d.MaxInterval
	}
	if p.MaxElapsedTime <= 0 {
		p.MaxElapsedTime = d.MaxElapsedTime
	}
	if p.Multiplier < 1 {
		p.Multiplier = d.Multiplier
	}
	if p.ListLag <= 0 {
		p.ListLag = d.ListLag
	}
	if p.RandomizationFactor == 0 {
		p.RandomizationFactor = d.RandomizationFactor
	}
	p.RandomizationFactor = max(p.RandomizationFactor, 0)
	return p
}

// Clock is the time source of retries and polling; tests replace the wall clock with one
// whose After returns at once, so no test waits for real time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// clockTimer adapts a Clock to backoff.Timer.
type clockTimer struct {
	clock Clock
	c     <-chan time.Time
}

func (t *clockTimer) Start(d time.Duration) { t.c = t.clock.After(d) }
func (t *clockTimer) Stop()                 {}
func (t *clockTimer) C() <-chan time.Time   { return t.c }
