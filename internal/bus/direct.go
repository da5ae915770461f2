package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// LastMsg returns the last message stored on subject (wildcards allowed) in stream, or ErrNotFound. It is read
// from the stream leader, so it reflects every acknowledged write.
func (c *Conn) LastMsg(ctx context.Context, stream, subject string) (Msg, error) {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return Msg{}, fmt.Errorf("bus: last msg %s %s: %w", stream, subject, err)
	}
	raw, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return Msg{}, fmt.Errorf("bus: last msg %s %s: %w", stream, subject, mapErr(err))
	}
	return fromRaw(raw), nil
}

// GetMsg returns the message with sequence seq in stream, or ErrNotFound.
func (c *Conn) GetMsg(ctx context.Context, stream string, seq uint64) (Msg, error) {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return Msg{}, fmt.Errorf("bus: get msg %s %d: %w", stream, seq, err)
	}
	raw, err := s.GetMsg(ctx, seq)
	if err != nil {
		return Msg{}, fmt.Errorf("bus: get msg %s %d: %w", stream, seq, mapErr(err))
	}
	return fromRaw(raw), nil
}

func fromRaw(raw *jetstream.RawStreamMsg) Msg {
	return Msg{Subject: raw.Subject, Header: Header(raw.Header), Data: raw.Data, Seq: raw.Sequence, Time: raw.Time}
}
