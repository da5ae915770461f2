package submitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// A revision with a part parked as failed before it had a Connect file (a failed plan, a supplement whose
// base failed, a lookup Connect could not filter) gets a parked key in the ledger,
// parked.<product>.<contract>.<periodKey>.r<revision>, holding what is needed to plan the revision again.
// An operator resolves the park by deleting the failed file entries (once the cause is fixed); the ledger
// scan then sees a parked key whose revision lacks a part and plans it again (replan.go). The key goes once
// every part is back and has ended without being parked again.

// parkedKeyPrefix prefixes the parked keys of the ledger.
const parkedKeyPrefix = "parked."

// parkedPlan is the value of a parked key.
type parkedPlan struct {
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

// first is the part 1 of the parked revision.
func (p parkedPlan) first() FileID {
	return FileID{Product: p.Product, Contract: p.Contract, PeriodStart: p.PeriodStart, Revision: p.Revision, Part: 1}
}

// parkedKey is the parked key of id's revision.
func parkedKey(id FileID) string {
	return parkedKeyPrefix + periodKeyPart(id.Product, id.Contract, id.PeriodStart) + ".r" + fmt.Sprint(id.Revision)
}

// parkedWithoutFile reports whether e is parked before Connect had a file for it: planning it again can
// only help, and loses nothing.
func parkedWithoutFile(e *Entry) bool { return e.State == StateFailed && e.FileID == "" }

// noteParked writes the parked key of e's revision if e is parked without a file and the key is missing.
// A failure is logged: the next scan that reads e, or the next start, tries again.
func (s *Submitter) noteParked(ctx context.Context, e *Entry) {
	if !parkedWithoutFile(e) {
		return
	}
	b, err := json.Marshal(parkedPlan{Product: e.Product, Contract: e.Contract, PeriodStart: e.PeriodStart,
		PeriodEnd: e.PeriodEnd, Revision: e.Revision, FromSeq: e.FromSeq, ToSeq: e.ToSeq, Since: e.ClosedAt, Reason: e.Reason})
	if err == nil {
		_, err = s.ledger.kv.Create(ctx, parkedKey(e.ID()), b)
	}
	if err != nil && !errors.Is(err, bus.ErrExists) {
		s.log.WarnContext(ctx, "submitter: could not note a parked revision", "key", e.Key, "err", err)
	}
}

// parked reads the parked key at key and its revision.
func (l *ledger) parked(ctx context.Context, key string) (parkedPlan, uint64, error) {
	var p parkedPlan
	kve, err := l.kv.Get(ctx, key)
	if err != nil {
		return p, 0, err
	}
	if err := json.Unmarshal(kve.Value, &p); err != nil {
		return p, 0, fmt.Errorf("submitter: decode %s: %w", key, err)
	}
	return p, kve.Revision, nil
}
