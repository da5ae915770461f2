package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// KV is a JetStream key-value bucket. Revisions are the bucket stream's sequences, so compare-and-set
// (Create, Update, Delete with lastRev) is exact. Reads may be served by any replica (direct get): a stale
// read shows up as ErrRevisionMismatch on the following Update, so read-modify-write loops must re-read.
type KV struct {
	bucket string
	kv     jetstream.KeyValue
}

// Entry is a key's current value and revision.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// KV opens a bucket created by Provision (handles are cached per bucket).
func (c *Conn) KV(ctx context.Context, bucket string) (*KV, error) {
	c.mu.Lock()
	k, ok := c.kvs[bucket]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	kv, err := c.js.KeyValue(ctx, bucket)
	if err != nil {
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, fmt.Errorf("bus: kv %s: %w", bucket, err)
	}
	k = &KV{bucket: bucket, kv: kv}
	c.mu.Lock()
	c.kvs[bucket] = k
	c.mu.Unlock()
	return k, nil
}

// Get returns the key's latest value, or ErrNotFound (also for a deleted key).
func (k *KV) Get(ctx context.Context, key string) (Entry, error) {
	e, err := k.kv.Get(ctx, key)
	if err != nil {
		return Entry{}, k.wrap("get", key, err)
	}
	return Entry{Key: e.Key(), Value: e.Value(), Revision: e.Revision()}, nil
}

// Create stores val only if the key does not exist (or was deleted); ErrExists otherwise.
func (k *KV) Create(ctx context.Context, key string, val []byte) (uint64, error) {
	rev, err := k.kv.Create(ctx, key, val)
	return rev, k.wrap("create", key, err)
}

// Update stores val only if rev is the key's latest revision; ErrRevisionMismatch otherwise. After an
// ambiguous failure (timeout) a retry may report a mismatch although the first attempt succeeded: re-read.
func (k *KV) Update(ctx context.Context, key string, val []byte, rev uint64) (uint64, error) {
	rev, err := k.kv.Update(ctx, key, val, rev)
	return rev, k.wrap("update", key, err)
}

// Put stores val unconditionally.
func (k *KV) Put(ctx context.Context, key string, val []byte) (uint64, error) {
	rev, err := k.kv.Put(ctx, key, val)
	return rev, k.wrap("put", key, err)
}

// Delete marks the key deleted; with lastRev > 0 only if lastRev is its latest revision (ErrRevisionMismatch).
func (k *KV) Delete(ctx context.Context, key string, lastRev uint64) error {
	var opts []jetstream.KVDeleteOpt
	if lastRev > 0 {
		opts = append(opts, jetstream.LastRevision(lastRev))
	}
	return k.wrap("delete", key, k.kv.Delete(ctx, key, opts...))
}

// Keys returns the sorted live keys starting with prefix ("" = all).
func (k *KV) Keys(ctx context.Context, prefix string) ([]string, error) {
	var lister jetstream.KeyLister
	var err error
	if strings.HasSuffix(prefix, ".") {
		lister, err = k.kv.ListKeysFiltered(ctx, prefix+">")
	} else {
		lister, err = k.kv.ListKeys(ctx)
	}
	if err != nil {
		return nil, k.wrap("keys", prefix, err)
	}
	defer lister.Stop()
	var keys []string
	for key := range lister.Keys() {
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, k.wrap("keys", prefix, err)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

func (k *KV) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bus: kv %s %s %s: %w", k.bucket, op, key, mapErr(err))
}
