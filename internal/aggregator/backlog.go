package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Backlog is how far one partition's committed output is behind its input: the partition's newest message in
// USAGE_EVENTS against the last source message whose output is committed (the base of the last progress
// record: a complete commit's to, an interrupted one's from-1).
type Backlog struct {
	Partition int
	End       uint64        // stream sequence of the newest message on usage.events.<p>; 0: none yet
	Committed uint64        // the committed base; 0: nothing committed yet
	Lag       time.Duration // stream time of End minus that of Committed; 0 when End ≤ Committed
}

// BacklogReader models the reads of internal/bus.Conn that ReadBacklog makes.
type BacklogReader interface {
	CommitReader
	GetMsg(ctx context.Context, stream string, seq uint64) (bus.Msg, error)
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
}

// ReadBacklog reads the committed backlog of partitions 0..partitions-1 from outside the workers, for
// operators (status) and benchmarks.
func ReadBacklog(ctx context.Context, r BacklogReader, partitions int) ([]Backlog, error) {
	out := make([]Backlog, partitions)
	for p := range out {
		var err error
		if out[p], err = ReadPartitionBacklog(ctx, r, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadPartitionBacklog reads partition p's committed backlog with direct gets (three when it is behind). Lag
// is measured in stream time (server timestamps), so it is the age of the oldest work not committed when the
// input is steady. While the partition has nothing committed, or its committed base message is gone
// (MaxAge), its lag counts from its first message after the base.
func ReadPartitionBacklog(ctx context.Context, r BacklogReader, p int) (Backlog, error) {
	b := Backlog{Partition: p}
	end, err := r.LastMsg(ctx, bus.StreamEvents, subjects.Events(p))
	if errors.Is(err, bus.ErrNotFound) {
		return b, nil
	}
	if err != nil {
		return b, fmt.Errorf("aggregator: backlog of partition %d: %w", p, err)
	}
	c, _, err := ReadCommitted(ctx, r, p)
	if err != nil {
		return b, fmt.Errorf("aggregator: backlog: %w", err)
	}
	b.End, b.Committed = end.Seq, c.Base
	if b.End <= b.Committed {
		return b, nil
	}
	since, err := firstAfter(ctx, r, p, c.Base)
	if err != nil {
		return b, fmt.Errorf("aggregator: backlog of partition %d: %w", p, err)
	}
	b.Lag = max(end.Time.Sub(since), 0)
	return b, nil
}

// firstAfter is the stream time of the committed base message (the clock the partition's output stands at),
// or, with nothing committed or the base aged out, of the partition's first message after it.
func firstAfter(ctx context.Context, r BacklogReader, p int, base uint64) (time.Time, error) {
	if base > 0 {
		m, err := r.GetMsg(ctx, bus.StreamEvents, base)
		if err == nil {
			return m.Time, nil
		}
		if !errors.Is(err, bus.ErrNotFound) {
			return time.Time{}, err
		}
	}
	var first time.Time
	err := r.Read(ctx, bus.StreamEvents, bus.ReadOptions{Filters: []string{subjects.Events(p)}, StartSeq: base + 1}, func(m bus.Msg) error {
		first = m.Time
		return bus.ErrStop
	})
	return first, err
}
