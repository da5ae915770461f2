package ingest

import (
	"hash/maphash"
	"sync"
)

// eventKey identifies an event's (source, id) by two independent 64-bit hashes with per-process random seeds:
// 128 bits make a false "already stored" practically impossible, and keys stay small and allocation-free.
type eventKey [2]uint64

// keyHasher derives eventKeys; its seeds are fixed for the life of the process.
type keyHasher struct{ seeds [2]maphash.Seed }

func newKeyHasher() keyHasher {
	return keyHasher{[2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

func (kh keyHasher) key(source, id string) eventKey {
	var k eventKey
	for i, seed := range kh.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(source)
		h.WriteByte(0)
		h.WriteString(id)
		k[i] = h.Sum64()
	}
	return k
}

// recentlyStored remembers the keys of events this process has seen durably stored (acknowledged by
// JetStream), so that a repeat sent later is reported as a duplicate without being published again. It is
// bounded: two generations of at most capacity/2 keys; when the current one fills, the older is dropped.
// A key it forgot is simply published again (JetStream's window and the aggregator dedup it).
// Safe for concurrent use.
type recentlyStored struct {
	mu        sync.Mutex
	half      int
	cur, prev map[eventKey]struct{}
}

func newRecentlyStored(capacity int) *recentlyStored {
	half := max(capacity/2, 1)
	return &recentlyStored{half: half, cur: make(map[eventKey]struct{}, half)}
}

// contains sets seen[i] for every keys[i] remembered and reports whether any is.
func (r *recentlyStored) contains(keys []eventKey, seen []bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	any := false
	for i, k := range keys {
		_, inCur := r.cur[k]
		_, inPrev := r.prev[k]
		seen[i] = inCur || inPrev
		any = any || seen[i]
	}
	return any
}

// add remembers keys; call it only once they are durably stored.
func (r *recentlyStored) add(keys []eventKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if len(r.cur) >= r.half {
			r.prev, r.cur = r.cur, make(map[eventKey]struct{}, r.half)
		}
		r.cur[k] = struct{}{}
	}
}
