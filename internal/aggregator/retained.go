package aggregator

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// History models the reads of a partition's progress history and snapshots outside a worker (retention):
// internal/bus.Conn.
type History interface {
	ListObjects(ctx context.Context, bucket, prefix string) ([]string, error)
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
}

// ProgressFloor returns the USAGE_AGG sequence below which no runner of partition p will read its progress
// records again (0: it may read all of them): the first record whose To is above the oldest snapshot kept
// (a runner restores one of the kept snapshots and reads the records after it, history.go), and never above
// the partition's last record (its fence). Without a snapshot every record may be read (a fresh state
// replays from the first commit). from is where to start reading (a floor found before: floors only rise).
func ProgressFloor(ctx context.Context, h History, p int, from uint64) (uint64, error) {
	names, err := h.ListObjects(ctx, bus.BucketSnapshots, snapshotPrefix(p))
	if err != nil {
		return 0, fmt.Errorf("aggregator: snapshots of partition %d: %w", p, err)
	}
	oldest, found := uint64(0), false
	for _, n := range names {
		if ref, ok := parseSnapshotName(p, n); ok && (!found || ref.seq < oldest) {
			oldest, found = ref.seq, true
		}
	}
	if !found {
		return 0, nil
	}
	var floor, last uint64
	o := bus.ReadOptions{Filters: []string{subjects.Progress(p)}, StartSeq: from}
	err = h.Read(ctx, bus.StreamAgg, o, func(m bus.Msg) error {
		last = m.Seq
		if floor != 0 {
			return nil
		}
		prog, err := decodeProgress(m.Data)
		if err != nil {
			return fmt.Errorf("progress at seq %d: %w", m.Seq, err)
		}
		if prog.To > oldest {
			floor = m.Seq
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("aggregator: progress of partition %d: %w", p, err)
	}
	if floor == 0 || floor > last {
		floor = last
	}
	return floor, nil
}
