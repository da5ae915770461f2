package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Query names what replays are looked up for: dead letters (their ids: those found holding an event or a
// record), an event (its source and id), a record (its origin id, events.PeriodRecord.OriginID).
type Query struct {
	DeadLetters []string
	Source, ID  string
	Record      string
}

// Replays returns the replay logs that concern q, in dead-letter id order, each with its earlier (refused)
// attempts: the log of each letter q names, and the log of the letter whose replay published the copy of
// q's event or record (its replay index). It reads those keys of the ledger only (explain calls it): a
// refused replay of a letter q does not name is not found.
func Replays(ctx context.Context, l *ledger.Store, q Query) ([]ledger.Replay, error) {
	ids := slices.Clone(q.DeadLetters)
	for _, key := range q.indexKeys() {
		x, _, err := l.ReplayIndex(ctx, key)
		switch {
		case errors.Is(err, bus.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("deadletter: replay index %s: %w", key, err)
		}
		ids = append(ids, x.DeadLetter)
	}
	slices.Sort(ids)
	var out []ledger.Replay
	for _, id := range slices.Compact(ids) {
		r, _, err := l.Replay(ctx, id)
		switch {
		case errors.Is(err, bus.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("deadletter: replay log of %s: %w", id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// indexKeys are the replay index keys of q's event and record.
func (q Query) indexKeys() []string {
	var keys []string
	if q.Source != "" && q.ID != "" {
		keys = append(keys, ledger.ReplayedEventKey(q.Source, q.ID))
	}
	if q.Record != "" {
		keys = append(keys, ledger.ReplayedRecordKey(q.Record))
	}
	return keys
}

// LetterID is the id of the dead letter stored in stream at seq (USAGE_DLQ: one a message) and line (USAGE_AGG:
// the 0-based index of the letter among its message's non-empty lines).
func LetterID(stream string, seq uint64, line int) string {
	if stream == bus.StreamDLQ {
		return dlqID(seq)
	}
	return aggID(seq, line)
}
