package retention

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
)

// deadLetters deletes the dead-letter messages (older than MinAge) whose every letter is replayed or a
// duplicate; a message holding an open letter stays.
func (r *Retainer) deadLetters(ctx context.Context) ([]Purge, error) {
	floors := map[string]uint64{}
	for _, stream := range []string{bus.StreamAgg, bus.StreamDLQ} {
		f, err := r.ageFloor(ctx, stream)
		if err != nil {
			return nil, err
		}
		floors[stream] = f
	}
	listing, err := r.letters.List(ctx, deadletter.Filter{})
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	type msg struct {
		stream string
		seq    uint64
	}
	open := map[msg]bool{}
	for _, l := range listing.Letters {
		k := msg{l.Stream, l.StoredSeq}
		open[k] = open[k] || l.State.Open() || l.StoredSeq >= floors[l.Stream]
	}
	var out []Purge
	for k, isOpen := range open {
		if isOpen {
			continue
		}
		if err := r.streams.DeleteMsg(ctx, k.stream, k.seq); err != nil {
			return out, fmt.Errorf("retention: %w", err)
		}
		out = append(out, Purge{Stream: k.stream, Seq: k.seq, Why: "every dead letter in it is replayed or a duplicate"})
	}
	return out, nil
}
