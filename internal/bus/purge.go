package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Purge removes the messages of stream on subject (wildcards allowed) whose sequence is below before (0: all
// of them). It is how retention removes what is provably no longer needed (docs/DESIGN.md, "Retention").
func (c *Conn) Purge(ctx context.Context, stream, subject string, before uint64) error {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: purge %s %s: %w", stream, subject, err)
	}
	opts := []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(subject)}
	if before > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(before))
	}
	if err := s.Purge(ctx, opts...); err != nil {
		return fmt.Errorf("bus: purge %s %s below %d: %w", stream, subject, before, mapErr(err))
	}
	return nil
}

// DeleteMsg removes one message of stream; a message already gone is not an error.
func (c *Conn) DeleteMsg(ctx context.Context, stream string, seq uint64) error {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: delete msg %s %d: %w", stream, seq, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		// The client does not wrap the server's error: a message that is not there is told by reading it.
		if _, gerr := s.GetMsg(ctx, seq); errors.Is(mapErr(gerr), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("bus: delete msg %s %d: %w", stream, seq, mapErr(err))
	}
	return nil
}

// AckFloor returns the stream sequence up to which the durable consumer has every message acknowledged (0
// when none is); ErrNotFound when there is no such consumer.
func (c *Conn) AckFloor(ctx context.Context, stream, durable string) (uint64, error) {
	cons, err := c.js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return 0, fmt.Errorf("bus: ack floor %s/%s: %w", stream, durable, mapErr(err))
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: ack floor %s/%s: %w", stream, durable, mapErr(err))
	}
	return info.AckFloor.Stream, nil
}

// SeqSince returns the sequence of the first message of stream stored at or after t; ok is false when
// there is none.
func (c *Conn) SeqSince(ctx context.Context, stream string, t time.Time) (seq uint64, ok bool, err error) {
	err = c.Read(ctx, stream, ReadOptions{StartTime: t}, func(m Msg) error {
		seq, ok = m.Seq, true
		return ErrStop
	})
	return seq, ok, err
}

// RecordedPartitions returns P as USAGE_EVENTS records it (MetaPartitions); ErrNotFound when the stream
// records none.
func (c *Conn) RecordedPartitions(ctx context.Context) (int, error) {
	info, err := c.streamInfo(ctx, StreamEvents)
	if err != nil {
		return 0, err
	}
	v, ok := info.Config.Metadata[MetaPartitions]
	if !ok {
		return 0, fmt.Errorf("bus: %s records no partition count: %w", StreamEvents, ErrNotFound)
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 {
		return 0, fmt.Errorf("bus: %s records partitions %q", StreamEvents, v)
	}
	return p, nil
}
