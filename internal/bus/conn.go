package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/usagepipe/usagepipe/internal/redact"
)

// Conn is a connection to NATS with one JetStream context. It reconnects forever; operations made while it is
// disconnected fail or retry as each method documents.
type Conn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	log    *slog.Logger
	closed chan struct{} // closed when the nats connection is closed for good
	window chan struct{} // bounds in-flight async publishes across all callers (publish.go)
	// partitions is the partition count Ready expects USAGE_EVENTS to record (0: unchecked): Config.Partitions,
	// then the last Provision's.
	partitions atomic.Int64

	mu      sync.Mutex
	streams map[string]jetstream.Stream
	kvs     map[string]*KV
	objects map[string]jetstream.ObjectStore
}

const (
	// publishWindow is the maximum number of async publishes awaiting a PubAck, over all callers.
	publishWindow = 4096
	// publishAckTimeout fails an async publish future whose PubAck has not arrived; it is then republished.
	publishAckTimeout = 10 * time.Second
	// apiTimeout is the JetStream API timeout used when ctx has no deadline.
	apiTimeout = 5 * time.Second
	// drainTimeout bounds Close.
	drainTimeout = 10 * time.Second
)

// Connect connects to NATS and waits until the first connection is established or ctx ends. The connection
// reconnects forever (MaxReconnects -1) and logs disconnects, reconnects and closure.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	c := &Conn{
		log:     cfg.logger().With("component", "bus"),
		closed:  make(chan struct{}),
		window:  make(chan struct{}, publishWindow),
		streams: map[string]jetstream.Stream{},
		kvs:     map[string]*KV{},
		objects: map[string]jetstream.ObjectStore{},
	}
	opts, err := c.options(cfg)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(cfg.url(), opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", cfg, err)
	}
	c.nc = nc
	c.partitions.Store(int64(cfg.Partitions))
	if err := c.waitConnected(ctx, cfg); err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: connect %s: %w", cfg, err)
	}
	c.js, err = jetstream.New(nc,
		jetstream.WithDefaultTimeout(apiTimeout),
		jetstream.WithPublishAsyncTimeout(publishAckTimeout),
		jetstream.WithPublishAsyncMaxPending(2*publishWindow))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	c.log.Info("nats connected", "url", redact.URLs(nc.ConnectedUrlRedacted()), "server", nc.ConnectedServerName())
	return c, nil
}

func (c *Conn) options(cfg Config) ([]nats.Option, error) {
	auth, err := cfg.authOptions()
	if err != nil {
		return nil, err
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil { // nil: a deliberate Close/Drain
				c.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("nats reconnected", "url", redact.URLs(nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			if err := nc.LastError(); isRefusal(err) {
				c.log.Error("nats connection closed for good: the server refused the credentials", "err", refusal(err, cfg))
			} else {
				c.log.Info("nats connection closed", "err", err)
			}
			close(c.closed)
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			c.log.Warn("nats async error", "err", err)
		}),
	}
	return append(opts, auth...), nil
}

// waitConnected polls until the (retrying) connection is up. Each new reason why it is not (a TLS failure, a
// refused dial) is logged once, and the last one is in the error when ctx ends first; when the client gives
// up (the server refused the credentials twice), the error wraps ErrRefused and says why.
func (c *Conn) waitConnected(ctx context.Context, cfg Config) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var last error
	for !c.nc.IsConnected() {
		if err := c.nc.LastError(); err != nil && (last == nil || err.Error() != last.Error()) {
			last = err
			c.log.Warn("nats not connected yet", "err", err)
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-c.closed:
			return refusal(c.nc.LastError(), cfg)
		case <-t.C:
		}
	}
	return nil
}

// Close drains the connection (pending publishes are flushed, subscriptions finish) and waits for it to close.
func (c *Conn) Close() {
	if err := c.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		c.nc.Close()
	}
	select {
	case <-c.closed:
	case <-time.After(drainTimeout):
		c.nc.Close()
	}
}

// Connected reports whether the connection is currently up.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// stream returns a cached stream handle (its methods address the stream by name).
func (c *Conn) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	c.mu.Lock()
	s, ok := c.streams[name]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := c.js.Stream(ctx, name)
	if err != nil {
		return nil, mapErr(err)
	}
	c.mu.Lock()
	c.streams[name] = s
	c.mu.Unlock()
	return s, nil
}

// mapErr translates nats errors into this package's sentinels (wrapping both, so the cause stays visible).
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("%w: %w", ErrStreamNotFound, err)
	case errors.Is(err, jetstream.ErrMsgNotFound), errors.Is(err, jetstream.ErrKeyNotFound),
		errors.Is(err, jetstream.ErrKeyDeleted), errors.Is(err, jetstream.ErrObjectNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return fmt.Errorf("%w: %w", ErrRevisionMismatch, err)
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	}
	return err
}
