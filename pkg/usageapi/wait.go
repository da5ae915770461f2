package usageapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ErrWaitStopped is returned by WaitFile when the poll BackOff stops before the file is done.
var ErrWaitStopped = errors.New("usageapi: stopped waiting for the usage file")

// ProcessingDone is the default condition of WaitFile: the server has finished with the upload.
func ProcessingDone(s FileStatus) bool { return !s.Processing() }

// WaitFile polls GET /usage/files/{id} until until(status) holds (ProcessingDone if nil) and
// returns the file. poll spaces the reads and may stop the wait (ErrWaitStopped); it is Reset
// first and must not be shared (backoff types are not thread-safe). If nil, reads start 500ms
// apart and grow to 10s, for as long as ctx lasts. Each read is retried like any GET.
func (c *Client) WaitFile(ctx context.Context, id string, until func(FileStatus) bool, poll backoff.BackOff) (*FileDetail, error) {
	if until == nil {
		until = ProcessingDone
	}
	if poll == nil {
		poll = backoff.NewExponentialBackOff(backoff.WithInitialInterval(500*time.Millisecond),
			backoff.WithMaxInterval(10*time.Second), backoff.WithMaxElapsedTime(0), backoff.WithClockProvider(c.clock))
	}
	poll.Reset()
	for {
		f, err := c.GetFile(ctx, id)
		if err != nil || until(f.Status) {
			return f, err
		}
		d := poll.NextBackOff()
		if d == backoff.Stop {
			return f, fmt.Errorf("%w %s (status %s)", ErrWaitStopped, id, f.Status)
		}
		select {
		case <-ctx.Done():
			return f, fmt.Errorf("usageapi: waiting for usage file %s (status %s): %w", id, f.Status, ctx.Err())
		case <-c.clock.After(d):
		}
	}
}
