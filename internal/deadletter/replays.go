package deadletter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Query names what replays are looked up for: a dead letter (its id), an event (its source and id), or a
// record (its origin id, events.PeriodRecord.OriginID; a resubmission's Resubmits names its dead letter).
type Query struct {
	DeadLetter string
	Source, ID string
	Record     string
}

// Replays returns the replay logs that concern q, in dead-letter id order: every attempt a letter's log
// holds (its earlier, refused ones included). It reads the ledger only (explain calls it).
func Replays(ctx context.Context, l *ledger.Store, q Query) ([]ledger.Replay, error) {
	all, err := l.Replays(ctx)
	if err != nil {
		return nil, fmt.Errorf("deadletter: replay logs: %w", err)
	}
	eventKey := ""
	if q.Source != "" || q.ID != "" {
		eventKey = fmt.Sprintf("(%s, %s)", q.Source, q.ID)
	}
	var out []ledger.Replay
	for _, r := range all {
		switch {
		case q.DeadLetter != "" && r.DeadLetter == q.DeadLetter,
			eventKey != "" && r.Kind == string(KindEvent) && r.Key == eventKey,
			q.Record != "" && r.Kind == string(KindRecord) && r.Key == q.Record:
			out = append(out, r)
		}
	}
	return out, nil
}
