package retention

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// progress purges each partition's progress records below the first one a restoring runner may read.
func (r *Retainer) progress(ctx context.Context, _ *state, floor uint64) ([]Purge, error) {
	var out []Purge
	for p := range r.o.Partitions {
		below, err := aggregator.ProgressFloor(ctx, r.streams, p, r.floors[p])
		if err != nil {
			return out, fmt.Errorf("retention: %w", err)
		}
		r.floors[p] = max(r.floors[p], below)
		why := fmt.Sprintf("a restoring runner reads partition %d's progress from seq %d (its oldest snapshot)", p, below)
		if err := r.purge(ctx, &out, bus.StreamAgg, subjects.Progress(p), below, floor, why); err != nil {
			return out, err
		}
	}
	return out, nil
}
