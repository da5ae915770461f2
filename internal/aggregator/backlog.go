package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
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

// ReadBacklog reads the committed backlog of partitions 0..partitions-1 with direct gets (three per
// partition), from outside the workers: for operators and benchmarks. Lag is measured in stream time
// (server timestamps), so it is the age of the oldest work not committed when the input is steady. While a
// partition has nothing committed, or its committed base message is gone (MaxAge), its lag counts from the
// stream's creation.
func ReadBacklog(ctx context.Context, conn *bus.Conn, partitions int) ([]Backlog, error) {
	created, err := conn.StreamCreated(ctx, bus.StreamEvents)
	if err != nil {
		return nil, fmt.Errorf("aggregator: backlog: %w", err)
	}
	out := make([]Backlog, partitions)
	for p := range out {
		if out[p], err = readPartitionBacklog(ctx, conn, p, created); err != nil {
			return nil, fmt.Errorf("aggregator: backlog of partition %d: %w", p, err)
		}
	}
	return out, nil
}

func readPartitionBacklog(ctx context.Context, conn *bus.Conn, p int, created time.Time) (Backlog, error) {
	b := Backlog{Partition: p}
	end, err := conn.LastMsg(ctx, bus.StreamEvents, eventsSubject(p))
	if errors.Is(err, bus.ErrNotFound) {
		return b, nil
	} else if err != nil {
		return b, err
	}
	b.End = end.Seq
	last, err := conn.LastMsg(ctx, bus.StreamAgg, progressSubject(p))
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		return b, err
	}
	if err == nil {
		prog, err := decodeProgress(last.Data)
		if err != nil {
			return b, fmt.Errorf("progress at seq %d: %w", last.Seq, err)
		}
		b.Committed = prog.base()
	}
	if b.End <= b.Committed {
		return b, nil
	}
	since := created
	if b.Committed > 0 {
		base, err := conn.GetMsg(ctx, bus.StreamEvents, b.Committed)
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			return b, err
		}
		if err == nil {
			since = base.Time
		}
	}
	b.Lag = max(end.Time.Sub(since), 0)
	return b, nil
}
