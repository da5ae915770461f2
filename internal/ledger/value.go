package ledger

import (
	"context"
	"encoding/json"
	"fmt"
)

// getValue reads the JSON value at key and its revision; bus.ErrNotFound when there is none.
func getValue[T any](ctx context.Context, kv KV, key string) (T, uint64, error) {
	var v T
	kve, err := kv.Get(ctx, key)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(kve.Value, &v); err != nil {
		return v, 0, fmt.Errorf("ledger: decode %s: %w", key, err)
	}
	return v, kve.Revision, nil
}

// putValue stores v at key as JSON: created when rev is 0 (bus.ErrExists if the key is taken), else updated
// if rev is still its revision (bus.ErrRevisionMismatch otherwise). It returns the new revision.
func putValue(ctx context.Context, kv KV, key string, v any, rev uint64) (uint64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("ledger: encode %s: %w", key, err)
	}
	if rev == 0 {
		return kv.Create(ctx, key, b)
	}
	return kv.Update(ctx, key, b, rev)
}
