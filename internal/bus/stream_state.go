package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamState is what a stream holds now.
type StreamState struct {
	Msgs      uint64
	Bytes     uint64
	FirstSeq  uint64 // 0 when empty
	FirstTime time.Time
	LastSeq   uint64 // the last sequence ever stored (also when the stream is empty now)
	LastTime  time.Time
	Created   time.Time
	MaxAge    time.Duration // 0: unlimited
}

// StreamState reads the stream's state from its leader.
func (c *Conn) StreamState(ctx context.Context, stream string) (StreamState, error) {
	info, err := c.streamInfo(ctx, stream)
	if err != nil {
		return StreamState{}, err
	}
	st := info.State
	return StreamState{Msgs: st.Msgs, Bytes: st.Bytes, FirstSeq: st.FirstSeq, FirstTime: st.FirstTime, LastSeq: st.LastSeq,
		LastTime: st.LastTime, Created: info.Created, MaxAge: info.Config.MaxAge}, nil
}

// SubjectCounts returns the number of messages stored on each subject of the stream that matches filter
// (wildcards allowed); subjects without messages are absent.
func (c *Conn) SubjectCounts(ctx context.Context, stream, filter string) (map[string]uint64, error) {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("bus: subject counts %s %s: %w", stream, filter, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("bus: subject counts %s %s: %w", stream, filter, mapErr(err))
	}
	out := make(map[string]uint64, len(info.State.Subjects))
	for subj, n := range info.State.Subjects {
		out[subj] = n
	}
	return out, nil
}

// CountAfter returns the number of messages on filter with a sequence above afterSeq, as the server counts a
// consumer's pending messages (a short-lived consumer is created and deleted for it).
func (c *Conn) CountAfter(ctx context.Context, stream, filter string, afterSeq uint64) (uint64, error) {
	cfg := jetstream.ConsumerConfig{FilterSubject: filter, AckPolicy: jetstream.AckNonePolicy,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: afterSeq + 1,
		InactiveThreshold: readInactiveThreshold, MemoryStorage: true}
	cons, err := c.js.CreateConsumer(ctx, stream, cfg)
	if err != nil {
		return 0, fmt.Errorf("bus: count %s %s after %d: %w", stream, filter, afterSeq, mapErr(err))
	}
	n := cons.CachedInfo().NumPending
	c.deleteConsumerLater(stream, cons)
	return n, nil
}

// CountSince returns the number of messages on filter stored at or after since (a short-lived consumer is
// created and deleted for it).
func (c *Conn) CountSince(ctx context.Context, stream, filter string, since time.Time) (uint64, error) {
	cfg := jetstream.ConsumerConfig{FilterSubject: filter, AckPolicy: jetstream.AckNonePolicy,
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
		InactiveThreshold: readInactiveThreshold, MemoryStorage: true}
	cons, err := c.js.CreateConsumer(ctx, stream, cfg)
	if err != nil {
		return 0, fmt.Errorf("bus: count %s %s since %s: %w", stream, filter, since.Format(time.RFC3339), mapErr(err))
	}
	n := cons.CachedInfo().NumPending
	c.deleteConsumerLater(stream, cons)
	return n, nil
}

// ConsumerState is a durable consumer's backlog.
type ConsumerState struct {
	Name        string
	Filters     []string
	Pending     uint64 // messages not delivered yet
	AckPending  int    // delivered, not acknowledged yet
	Redelivered int
}

// DurableConsumers lists the stream's durable consumers (ordered and other ephemeral consumers left out).
func (c *Conn) DurableConsumers(ctx context.Context, stream string) ([]ConsumerState, error) {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("bus: consumers of %s: %w", stream, err)
	}
	lister := s.ListConsumers(ctx)
	var out []ConsumerState
	for info := range lister.Info() {
		if info.Config.Durable == "" {
			continue
		}
		filters := info.Config.FilterSubjects
		if info.Config.FilterSubject != "" {
			filters = append(filters, info.Config.FilterSubject)
		}
		out = append(out, ConsumerState{Name: info.Name, Filters: filters, Pending: info.NumPending,
			AckPending: info.NumAckPending, Redelivered: info.NumRedelivered})
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("bus: consumers of %s: %w", stream, mapErr(err))
	}
	return out, nil
}
