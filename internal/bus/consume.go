package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumeOptions configures a durable consumer. Zero fields take the defaults noted.
type ConsumeOptions struct {
	Durable         string          // required; the consumer's name, shared by every instance of the service
	Filters         []string        // subject filters; empty = the whole stream
	AckWait         time.Duration   // redelivery after this long without an ack; default 30s (BackOff[0] if set)
	MaxAckPending   int             // unacknowledged messages over all instances; default 1000
	PullMaxMessages int             // messages buffered per instance; default 64 (keep × handler time ≪ AckWait)
	Backoff         []time.Duration // redelivery delays after AckWait expiries (not after Nak)
}

const (
	defaultPullMaxMessages = 64
	// watchdogInterval is how often Consume checks that a consumer with pending work is delivering.
	watchdogInterval = 20 * time.Second
	// missedHeartbeatsRestart restarts the subscription after this many consecutive missed heartbeats.
	missedHeartbeatsRestart = 3
)

// Consume runs handler for each message of a durable pull consumer (DeliverAll, AckExplicit, MaxDeliver -1,
// created or updated idempotently) until ctx ends, then returns nil. handler runs serially and must settle
// each Delivery (Ack, Nak or Term); an unsettled one is redelivered after AckWait. A watchdog recreates the
// consumer and its subscription when it is deleted, stops delivering (missed heartbeats, closed) or stalls
// with pending messages. Only an invalid configuration (a 400 from the server) ends Consume early.
func (c *Conn) Consume(ctx context.Context, stream string, o ConsumeOptions, handler func(ctx context.Context, d *Delivery)) error {
	if o.Durable == "" {
		return fmt.Errorf("bus: consume %s: no durable name: %w", stream, ErrInvalid)
	}
	cfg := consumerConfig(o)
	wait := newRetryWait()
	for ctx.Err() == nil {
		err := c.consumeOnce(ctx, stream, cfg, o, handler)
		if ctx.Err() != nil {
			break
		}
		if invalidConsumer(err) {
			return fmt.Errorf("bus: consume %s/%s: %w: %w", stream, o.Durable, ErrInvalid, err)
		}
		c.log.Warn("bus: consumer restarting", "stream", stream, "durable", o.Durable, "err", err)
		if wait.sleep(ctx) != nil {
			break
		}
	}
	return nil
}

// invalidConsumer says whether creating the consumer failed because its configuration is invalid.
func invalidConsumer(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 400 {
		return true
	}
	for _, invalid := range []error{jetstream.ErrInvalidConsumerName, jetstream.ErrInvalidStreamName,
		jetstream.ErrInvalidSubject, jetstream.ErrInvalidOption, jetstream.ErrDuplicateFilterSubjects,
		jetstream.ErrOverlappingFilterSubjects, jetstream.ErrEmptyFilter} {
		if errors.Is(err, invalid) {
			return true
		}
	}
	return false
}

func consumerConfig(o ConsumeOptions) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       o.Durable,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: o.MaxAckPending,
		BackOff:       o.Backoff,
	}
	if len(o.Backoff) > 0 {
		cfg.AckWait = o.Backoff[0] // the server does the same; keeps CreateOrUpdate idempotent
	}
	if len(o.Filters) == 1 {
		cfg.FilterSubject = o.Filters[0]
	} else {
		cfg.FilterSubjects = o.Filters
	}
	return cfg
}

// consumeOnce creates the consumer, consumes until ctx ends or the watchdog asks for a restart, and returns why.
func (c *Conn) consumeOnce(ctx context.Context, stream string, cfg jetstream.ConsumerConfig, o ConsumeOptions,
	handler func(context.Context, *Delivery)) error {
	cons, err := c.js.CreateOrUpdateConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("create consumer: %w", mapErr(err))
	}
	w := &consumeWatch{restart: make(chan error, 1)}
	pull := o.PullMaxMessages
	if pull <= 0 {
		pull = defaultPullMaxMessages
	}
	cc, err := cons.Consume(w.serial(ctx, handler), jetstream.PullMaxMessages(pull), jetstream.ConsumeErrHandler(w.onErr))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	defer w.stop(cc)
	return c.watch(ctx, cons, cc, w, cfg.MaxAckPending)
}

// watch blocks until ctx ends (nil) or the subscription must be recreated (the reason).
func (c *Conn) watch(ctx context.Context, cons jetstream.Consumer, cc jetstream.ConsumeContext, w *consumeWatch, maxAckPending int) error {
	t := time.NewTicker(watchdogInterval)
	defer t.Stop()
	var lastDelivered uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.restart:
			return err
		case <-cc.Closed():
			return errors.New("subscription closed")
		case <-t.C:
			if err := c.checkStalled(ctx, cons, w, &lastDelivered, maxAckPending); err != nil {
				return err
			}
		}
	}
}

// checkStalled reports a consumer that is gone, or that has deliverable messages but delivered none recently.
func (c *Conn) checkStalled(ctx context.Context, cons jetstream.Consumer, w *consumeWatch, last *uint64, maxAckPending int) error {
	delivered := w.delivered.Load()
	progressed := delivered != *last
	*last = delivered
	if progressed || w.busy.Load() || !c.nc.IsConnected() {
		return nil
	}
	ictx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := cons.Info(ictx)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("watchdog: %w", err)
	}
	if err != nil || maxAckPending <= 0 {
		maxAckPending = 1000
	}
	if err == nil && info.NumPending > 0 && info.NumAckPending < maxAckPending {
		return fmt.Errorf("watchdog: %d pending, %d ack pending, nothing delivered for %s",
			info.NumPending, info.NumAckPending, watchdogInterval)
	}
	return nil
}

// consumeWatch serialises the handler across subscription generations and collects restart reasons.
type consumeWatch struct {
	mu        sync.Mutex // held while handler runs
	stopped   bool
	busy      atomic.Bool   // handler running
	delivered atomic.Uint64 // messages handed to handler
	missedHB  atomic.Int32  // consecutive missed heartbeats
	restart   chan error
}

func (w *consumeWatch) serial(ctx context.Context, handler func(context.Context, *Delivery)) jetstream.MessageHandler {
	return func(jm jetstream.Msg) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.missedHB.Store(0)
		if w.stopped || ctx.Err() != nil {
			return // not settled: redelivered after AckWait
		}
		w.delivered.Add(1)
		w.busy.Store(true)
		defer w.busy.Store(false)
		d, err := newDelivery(jm)
		if err != nil {
			_ = jm.Term() // not a JetStream message: cannot happen on a pull consumer
			return
		}
		handler(ctx, d)
	}
}

func (w *consumeWatch) onErr(_ jetstream.ConsumeContext, err error) {
	switch {
	case errors.Is(err, jetstream.ErrNoHeartbeat):
		if w.missedHB.Add(1) < missedHeartbeatsRestart {
			return
		}
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound),
		errors.Is(err, jetstream.ErrBadRequest), errors.Is(err, jetstream.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionClosed):
	default:
		return
	}
	select {
	case w.restart <- err:
	default:
	}
}

// stop ends the subscription and waits for a running handler to return.
func (w *consumeWatch) stop(cc jetstream.ConsumeContext) {
	cc.Stop()
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}
