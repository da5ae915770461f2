package console

import (
	"context"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/status"
)

// reportCache shares one status report between every viewer for ttl, and one read in flight: however many
// tabs refresh the overview, the system is read at most once per ttl.
type reportCache struct {
	src Status
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	report *status.Report
	at     time.Time
	flight chan struct{} // closed when the read in flight ends; nil when none
	err    error
}

func newReportCache(src Status, ttl time.Duration, now func() time.Time) *reportCache {
	return &reportCache{src: src, ttl: ttl, now: now}
}

// get returns a report at most ttl old, reading one (or waiting for the read in flight) otherwise.
func (rc *reportCache) get(ctx context.Context) (*status.Report, error) {
	rc.mu.Lock()
	if rc.report != nil && rc.now().Sub(rc.at) < rc.ttl {
		defer rc.mu.Unlock()
		return rc.report, nil
	}
	wait := rc.flight
	if wait == nil {
		rc.flight = make(chan struct{})
		go rc.read(rc.flight)
		wait = rc.flight
	}
	rc.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.report, rc.err
}

// read reads a report (bounded by readTimeout, whoever waits for it) and closes done.
func (rc *reportCache) read(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	r, err := rc.src.Status(ctx)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err == nil {
		rc.report, rc.at = r, rc.now()
	}
	rc.err = err
	rc.flight = nil
	close(done)
}
