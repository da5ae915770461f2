package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// Actor is who did an operator action: the operator's name (the CLI's --operator, the operator key's name
// on the API) and the way in (cli, api, console).
type Actor struct {
	Name string `json:"name"`
	Via  string `json:"via,omitempty"`
}

// String is "name (via)".
func (a Actor) String() string {
	if a.Via == "" {
		return a.Name
	}
	return a.Name + " (" + a.Via + ")"
}

// ReplayState is where the replay of a dead letter stands. Done and duplicate are final; a refused replay may
// be started again once its cause is fixed; a started one that stopped (a crash) is resumed.
type ReplayState string

// Replay states.
const (
	ReplayStarted   ReplayState = "started"   // logged; its copy may or may not be published yet
	ReplayDone      ReplayState = "done"      // published (Seq): counted, or resubmitted, once
	ReplayDuplicate ReplayState = "duplicate" // counted already (Outcome says where): nothing published
	ReplayRefused   ReplayState = "refused"   // still invalid (Outcome says why): nothing published
)

// Final reports whether the replay is over for good: done or duplicate.
func (s ReplayState) Final() bool { return s == ReplayDone || s == ReplayDuplicate }

// Replay is the log of one dead letter's replay, at ReplayKey(DeadLetter): created before anything is
// published, so that a dead letter is replayed once, ever (docs/DESIGN.md, "Replay").
type Replay struct {
	DeadLetter string      `json:"dead_letter"`
	Stage      string      `json:"stage"`
	Reason     string      `json:"reason"`
	Kind       string      `json:"kind"`              // event or record
	Key        string      `json:"key"`               // the event's (source, id), or the record's origin id
	IndexKey   string      `json:"index_key"`         // its ReplayIndex
	Target     string      `json:"target"`            // the subject the copy goes to
	State      ReplayState `json:"state"`             //
	Outcome    string      `json:"outcome,omitempty"` // count, adjust, resubmit, duplicate or refused, and why
	Seq        uint64      `json:"seq,omitempty"`     // the copy's stream sequence (done)
	Floor      uint64      `json:"floor,omitempty"`   // the target stream's last sequence when this attempt began
	Actor      Actor       `json:"actor"`
	Filter     string      `json:"filter,omitempty"` // the selection the operator replayed
	Started    time.Time   `json:"started"`
	Finished   time.Time   `json:"finished,omitzero"`
	Earlier    []Attempt   `json:"earlier,omitempty"` // refused attempts before this one
}

// Attempt is an earlier, refused, attempt of a replay.
type Attempt struct {
	Actor    Actor     `json:"actor"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  string    `json:"outcome"`
}

// ReplayIndex says which dead letter's replay published the copy of an event or record (at ReplayedEventKey or
// ReplayedRecordKey), and its sequence once known: one replay per key, ever.
type ReplayIndex struct {
	DeadLetter string    `json:"dead_letter"`
	Seq        uint64    `json:"seq,omitempty"`
	At         time.Time `json:"at"`
}

// Replay reads the replay log of a dead letter; bus.ErrNotFound when it was never replayed.
func (s *Store) Replay(ctx context.Context, deadLetter string) (Replay, uint64, error) {
	return getValue[Replay](ctx, s.kv, ReplayKey(deadLetter))
}

// PutReplay creates the replay log (rev 0; bus.ErrExists when there is one) or updates it at rev
// (bus.ErrRevisionMismatch when someone wrote since).
func (s *Store) PutReplay(ctx context.Context, r Replay, rev uint64) (uint64, error) {
	return putValue(ctx, s.kv, ReplayKey(r.DeadLetter), r, rev)
}

// Replays reads every replay log, in key order.
func (s *Store) Replays(ctx context.Context) ([]Replay, error) {
	keys, err := s.kv.Keys(ctx, ReplaysPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Replay, 0, len(keys))
	for _, k := range keys {
		r, _, err := getValue[Replay](ctx, s.kv, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ReplayIndex reads the replay index at key (ReplayedEventKey, ReplayedRecordKey); bus.ErrNotFound when the
// key was never replayed.
func (s *Store) ReplayIndex(ctx context.Context, key string) (ReplayIndex, uint64, error) {
	return getValue[ReplayIndex](ctx, s.kv, key)
}

// PutReplayIndex creates (rev 0) or updates (at rev) the replay index at key.
func (s *Store) PutReplayIndex(ctx context.Context, key string, x ReplayIndex, rev uint64) (uint64, error) {
	return putValue(ctx, s.kv, key, x, rev)
}
