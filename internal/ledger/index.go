package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// SupplementIndex records how far a period's adjustments are planned: supplements 1..Next−1 cover the
// adjustment messages up to stream sequence Covered, contiguous and disjoint; the messages after it wait in
// USAGE_AGG for supplement Next. It is stored at SupplementIndexKey. NoClosedRecords notes that every
// partition marked the period with no closed record, written by retention before it purges those marks (the
// order of the period's files reads it instead).
type SupplementIndex struct {
	Next            int    `json:"next"`
	Covered         uint64 `json:"covered"`
	NoClosedRecords bool   `json:"no_closed_records,omitempty"`
}

// Index returns a period's supplement index at key and its revision: {Next: 1} at revision 0 when there is
// none yet.
func (s *Store) Index(ctx context.Context, key string) (SupplementIndex, uint64, error) {
	kve, err := s.kv.Get(ctx, key)
	if errors.Is(err, bus.ErrNotFound) {
		return SupplementIndex{Next: 1}, 0, nil
	}
	if err != nil {
		return SupplementIndex{}, 0, err
	}
	var idx SupplementIndex
	if err := json.Unmarshal(kve.Value, &idx); err != nil {
		return SupplementIndex{}, 0, fmt.Errorf("ledger: decode %s: %w", key, err)
	}
	return idx, kve.Revision, nil
}

// PutIndex stores idx at key if rev is still its revision, rev 0 meaning that there must be none yet;
// bus.ErrRevisionMismatch or bus.ErrExists otherwise.
func (s *Store) PutIndex(ctx context.Context, key string, idx SupplementIndex, rev uint64) error {
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("ledger: encode %s: %w", key, err)
	}
	if rev == 0 {
		_, err = s.kv.Create(ctx, key, b)
	} else {
		_, err = s.kv.Update(ctx, key, b, rev)
	}
	return err
}
