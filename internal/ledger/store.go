package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// KV models the operations of a bus KV bucket (internal/bus.KV) the ledger uses: reads, key listing, and
// the compare-and-set writes.
type KV interface {
	Get(ctx context.Context, key string) (bus.Entry, error)
	Keys(ctx context.Context, prefix string) ([]string, error)
	Create(ctx context.Context, key string, val []byte) (uint64, error)
	Update(ctx context.Context, key string, val []byte, rev uint64) (uint64, error)
	Delete(ctx context.Context, key string, lastRev uint64) error
}

var _ KV = (*bus.KV)(nil)

// Buckets models the bus connection's bucket opener (internal/bus.Conn.KV).
type Buckets interface {
	KV(ctx context.Context, bucket string) (*bus.KV, error)
}

// errNoRevision refuses a write that would not be compare-and-set.
var errNoRevision = errors.New("ledger: a change needs the revision read (compare-and-set)")

// Store is the ledger bucket: reads of entries, indexes and parked revisions, and their CAS writes.
type Store struct{ kv KV }

// New returns the ledger stored in kv.
func New(kv KV) *Store { return &Store{kv: kv} }

// Open opens the ledger bucket (bus.BucketLedger, created by the bus's Provision); bus.ErrNotFound when it
// does not exist.
func Open(ctx context.Context, b Buckets) (*Store, error) {
	kv, err := b.KV(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return New(kv), nil
}

// Get returns the entry at key and its revision; bus.ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, key string) (*Entry, uint64, error) {
	kve, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	e, err := Decode(kve.Value)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", key, err)
	}
	return e, kve.Revision, nil
}

// Keys lists the live keys starting with prefix, sorted: FilesPrefix, PeriodPrefix or RevisionPrefix for
// entries, SupplementIndexesPrefix, ParkedPrefix.
func (s *Store) Keys(ctx context.Context, prefix string) ([]string, error) {
	return s.kv.Keys(ctx, prefix)
}

// Entries reads every entry whose key starts with prefix (FilesPrefix, PeriodPrefix, RevisionPrefix), in
// key order; an entry deleted between the listing and its read is left out.
func (s *Store) Entries(ctx context.Context, prefix string) ([]*Entry, error) {
	keys, err := s.kv.Keys(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*Entry, 0, len(keys))
	for _, k := range keys {
		e, _, err := s.Get(ctx, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Create stores a new entry at e.Key; bus.ErrExists when the key is taken.
func (s *Store) Create(ctx context.Context, e *Entry) (uint64, error) {
	b, err := Encode(e)
	if err != nil {
		return 0, err
	}
	return s.kv.Create(ctx, e.Key, b)
}

// Update stores e at e.Key if rev is still the entry's revision; bus.ErrRevisionMismatch otherwise.
func (s *Store) Update(ctx context.Context, e *Entry, rev uint64) (uint64, error) {
	if rev == 0 {
		return 0, fmt.Errorf("update %s: %w", e.Key, errNoRevision)
	}
	b, err := Encode(e)
	if err != nil {
		return 0, err
	}
	return s.kv.Update(ctx, e.Key, b, rev)
}

// Delete deletes the entry at key if rev is still its revision; bus.ErrRevisionMismatch otherwise. Only an
// operator's retry of a parked revision deletes entries (its failed parts without a Connect file), so that
// the planner plans them again.
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	if rev == 0 {
		return fmt.Errorf("delete %s: %w", key, errNoRevision)
	}
	return s.kv.Delete(ctx, key, rev)
}
