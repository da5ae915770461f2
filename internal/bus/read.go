package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ReadOptions selects what Read delivers.
type ReadOptions struct {
	Filters   []string  // subject filters; empty = the whole stream
	StartSeq  uint64    // first sequence to deliver; takes precedence over StartTime; 0 = from the start
	StartTime time.Time // deliver messages stored at or after this time; zero = from the start
	Follow    bool      // false: stop after the last matching message present when Read was called
}

// readPullBatch is how many messages the ordered consumer requests at a time.
const readPullBatch = 1000

// Read delivers the stream's messages matching o, in stream order, to fn, serially, through an ordered
// consumer (ephemeral, no acks, recreated transparently after gaps, disconnects and server restarts). It
// returns fn's first error, ctx's error, or nil once the end is reached (Follow false) or fn returned ErrStop.
// fn is never running once Read has returned.
func (c *Conn) Read(ctx context.Context, stream string, o ReadOptions, fn func(Msg) error) error {
	var end uint64 // 0: follow forever
	if !o.Follow {
		last, ok, err := c.readEnd(ctx, stream, o)
		if err != nil || !ok {
			return err
		}
		end = last
	}
	cons, err := c.js.OrderedConsumer(ctx, stream, orderedConfig(o))
	if err != nil {
		return fmt.Errorf("bus: read %s: %w", stream, mapErr(err))
	}
	r := &reader{fn: fn, end: end, result: make(chan error, 1), log: c.log}
	cc, err := cons.Consume(r.handle, jetstream.PullMaxMessages(readPullBatch), jetstream.ConsumeErrHandler(r.consumeErr))
	if err != nil {
		return fmt.Errorf("bus: read %s: %w", stream, mapErr(err))
	}
	select {
	case err = <-r.result:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cc.Stop()
	r.close()
	c.deleteConsumerLater(stream, cons)
	if err != nil {
		return fmt.Errorf("bus: read %s: %w", stream, err)
	}
	return nil
}

// deleteConsumerLater removes the ordered consumer's server-side consumer (which would otherwise linger until
// its inactivity threshold) without delaying the caller.
func (c *Conn) deleteConsumerLater(stream string, cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		defer cancel()
		_ = c.js.DeleteConsumer(ctx, stream, info.Name)
	}()
}

// readInactiveThreshold lets the server drop an abandoned ordered consumer; a live one recreates itself.
const readInactiveThreshold = time.Minute

func orderedConfig(o ReadOptions) jetstream.OrderedConsumerConfig {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: o.Filters, DeliverPolicy: jetstream.DeliverAllPolicy,
		InactiveThreshold: readInactiveThreshold}
	switch {
	case o.StartSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, o.StartSeq
	case !o.StartTime.IsZero():
		t := o.StartTime
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	return cfg
}

// readEnd finds the sequence of the last message matching o now; ok is false when nothing would be delivered.
func (c *Conn) readEnd(ctx context.Context, stream string, o ReadOptions) (end uint64, ok bool, err error) {
	var lastTime time.Time
	if len(o.Filters) == 0 {
		info, err := c.streamInfo(ctx, stream)
		if err != nil {
			return 0, false, fmt.Errorf("bus: read: %w", err)
		}
		if info.State.Msgs == 0 {
			return 0, false, nil
		}
		end, lastTime = info.State.LastSeq, info.State.LastTime
	} else {
		for _, f := range o.Filters {
			m, err := c.LastMsg(ctx, stream, f)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, false, fmt.Errorf("bus: read: %w", err)
			}
			if m.Seq > end {
				end, lastTime = m.Seq, m.Time
			}
		}
	}
	ok = end > 0 && end >= o.StartSeq && (o.StartSeq > 0 || o.StartTime.IsZero() || !lastTime.Before(o.StartTime))
	return end, ok, nil
}

// reader runs fn for each delivered message and reports the outcome once.
type reader struct {
	mu     sync.Mutex // serialises fn (a consumer reset may briefly overlap two subscriptions) and close
	done   bool
	fn     func(Msg) error
	end    uint64
	result chan error
	log    *slog.Logger
}

func (r *reader) handle(jm jetstream.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	meta, err := jm.Metadata()
	if err != nil {
		r.finish(fmt.Errorf("message metadata: %w", err))
		return
	}
	if err := r.fn(fromJS(jm, meta)); err != nil {
		if errors.Is(err, ErrStop) {
			err = nil
		}
		r.finish(err)
		return
	}
	// Stop at the end sequence learned from the stream leader, never on NumPending: a fresh ordered consumer
	// on a replicated stream can report 0 pending while messages remain (seen after a node restart on R3).
	if r.end > 0 && meta.Sequence.Stream >= r.end {
		r.finish(nil)
	}
}

// finish records the outcome; r.mu is held.
func (r *reader) finish(err error) {
	r.done = true
	r.result <- err
}

func (r *reader) close() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
}

func (r *reader) consumeErr(_ jetstream.ConsumeContext, err error) {
	if errors.Is(err, jetstream.ErrConnectionClosed) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.done {
			r.finish(err)
		}
		return
	}
	r.log.Debug("bus: read: consumer error (recovering)", "err", err)
}

// fromJS converts a delivered message.
func fromJS(jm jetstream.Msg, meta *jetstream.MsgMetadata) Msg {
	return Msg{
		Subject: jm.Subject(),
		Header:  Header(jm.Headers()),
		Data:    jm.Data(),
		Seq:     meta.Sequence.Stream,
		Time:    meta.Timestamp,
	}
}
