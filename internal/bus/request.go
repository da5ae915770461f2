package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// Request sends data on subject over core NATS (nothing is stored) and returns the first reply. It fails with
// ErrNoResponders when nobody serves the subject, or with ctx's error when no reply comes in time (without a
// deadline in ctx, after apiTimeout).
func (c *Conn) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, apiTimeout)
		defer cancel()
	}
	m, err := c.nc.RequestWithContext(ctx, subject, data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("bus: request %s: %w", subject, ErrNoResponders)
	case err != nil:
		return nil, fmt.Errorf("bus: request %s: %w", subject, err)
	}
	return m.Data, nil
}

// Serve answers the requests on subject with fn's result until stop is called: fn runs on one goroutine, one
// request at a time. A request without a reply subject is ignored. Once stop has returned, fn is not running
// and is not called again (requests still queued then get no reply: their senders time out).
func (c *Conn) Serve(subject string, fn func(data []byte) []byte) (stop func(), err error) {
	var mu sync.Mutex
	stopped := false
	sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if stopped || m.Reply == "" {
			return
		}
		if err := m.Respond(fn(m.Data)); err != nil {
			c.log.Debug("bus: reply failed", "subject", subject, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bus: serve %s: %w", subject, err)
	}
	return func() {
		_ = sub.Unsubscribe()
		mu.Lock()
		stopped = true
		mu.Unlock()
	}, nil
}
