package submitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// ledger is the usagepipe_ledger bucket: Entries under file keys and supplement indexes under supp keys.
// Entries are created once (Create) and then only changed with compare-and-set (Update at the revision read).
type ledger struct{ kv *bus.KV }

// get returns the entry at key and its revision; bus.ErrNotFound when there is none.
func (l *ledger) get(ctx context.Context, key string) (*Entry, uint64, error) {
	kve, err := l.kv.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	e, err := decodeEntry(kve.Value)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", key, err)
	}
	return e, kve.Revision, nil
}

// create stores a new entry; bus.ErrExists when the key is taken.
func (l *ledger) create(ctx context.Context, e *Entry) (uint64, error) {
	b, err := encodeEntry(e)
	if err != nil {
		return 0, err
	}
	return l.kv.Create(ctx, e.Key, b)
}

// update stores e if rev is still the entry's revision; bus.ErrRevisionMismatch otherwise.
func (l *ledger) update(ctx context.Context, e *Entry, rev uint64) (uint64, error) {
	b, err := encodeEntry(e)
	if err != nil {
		return 0, err
	}
	return l.kv.Update(ctx, e.Key, b, rev)
}

// fileKeys lists every file key.
func (l *ledger) fileKeys(ctx context.Context) ([]string, error) {
	return l.kv.Keys(ctx, fileKeyPrefix)
}

// suppIndex records how far a period's adjustments are planned: supplements 1..Next−1 cover the
// adjustment messages up to stream sequence Covered.
type suppIndex struct {
	Next    int    `json:"next"`
	Covered uint64 `json:"covered"`
}

// index returns a period's supplement index and its revision (0 when there is none yet).
func (l *ledger) index(ctx context.Context, key string) (suppIndex, uint64, error) {
	kve, err := l.kv.Get(ctx, key)
	if errors.Is(err, bus.ErrNotFound) {
		return suppIndex{Next: 1}, 0, nil
	}
	if err != nil {
		return suppIndex{}, 0, err
	}
	var idx suppIndex
	if err := json.Unmarshal(kve.Value, &idx); err != nil {
		return suppIndex{}, 0, fmt.Errorf("submitter: decode %s: %w", key, err)
	}
	return idx, kve.Revision, nil
}

// putIndex stores idx at revision rev (0: the index must not exist yet).
func (l *ledger) putIndex(ctx context.Context, key string, idx suppIndex, rev uint64) error {
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("submitter: encode %s: %w", key, err)
	}
	if rev == 0 {
		_, err = l.kv.Create(ctx, key, b)
	} else {
		_, err = l.kv.Update(ctx, key, b, rev)
	}
	return err
}
