package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// A revision with a part parked as failed before it had a Connect file (a failed plan, a supplement whose
// base failed, a lookup Connect could not filter) gets a parked key, ParkedKey, holding what is needed to
// plan the revision again. An operator resolves the park by deleting the failed file entries (once the
// cause is fixed); the submitter's ledger scan then plans the revision again, and deletes the parked key
// once every part is back and has ended without being parked again.

// Parked is the value of a parked key.
type Parked struct {
	Product     string    `json:"product"`
	Contract    string    `json:"contract"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Revision    int       `json:"revision"`
	FromSeq     uint64    `json:"from_seq,omitempty"` // supplements: the adjustment messages (FromSeq, ToSeq]
	ToSeq       uint64    `json:"to_seq,omitempty"`
	Since       time.Time `json:"since"` // stream time the planning grace ran from (Entry.ClosedAt)
	Reason      string    `json:"reason"`
}

// First is the part 1 of the parked revision.
func (p Parked) First() FileID {
	return FileID{Product: p.Product, Contract: p.Contract, PeriodStart: p.PeriodStart, Revision: p.Revision, Part: 1}
}

// Parked reads the parked revision at key and its revision; bus.ErrNotFound when there is none.
func (s *Store) Parked(ctx context.Context, key string) (Parked, uint64, error) {
	var p Parked
	kve, err := s.kv.Get(ctx, key)
	if err != nil {
		return p, 0, err
	}
	if err := json.Unmarshal(kve.Value, &p); err != nil {
		return p, 0, fmt.Errorf("ledger: decode %s: %w", key, err)
	}
	return p, kve.Revision, nil
}

// NotePark writes the parked key of e's revision if e is parked without a file (Entry.ParkedWithoutFile)
// and the key is missing; nil when there is nothing to write or the key exists.
func (s *Store) NotePark(ctx context.Context, e *Entry) error {
	if !e.ParkedWithoutFile() {
		return nil
	}
	b, err := json.Marshal(Parked{Product: e.Product, Contract: e.Contract, PeriodStart: e.PeriodStart,
		PeriodEnd: e.PeriodEnd, Revision: e.Revision, FromSeq: e.FromSeq, ToSeq: e.ToSeq, Since: e.ClosedAt, Reason: e.Reason})
	if err == nil {
		_, err = s.kv.Create(ctx, ParkedKey(e.ID()), b)
	}
	if err != nil && !errors.Is(err, bus.ErrExists) {
		return err
	}
	return nil
}

// DeleteParked deletes the parked key at key if rev is still its revision; bus.ErrRevisionMismatch
// otherwise.
func (s *Store) DeleteParked(ctx context.Context, key string, rev uint64) error {
	if rev == 0 {
		return fmt.Errorf("delete %s: %w", key, errNoRevision)
	}
	return s.kv.Delete(ctx, key, rev)
}
