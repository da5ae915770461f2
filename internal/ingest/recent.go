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
// bounded: two generations of about capacity/2 keys each; when the current one is full, the older is
// dropped. A request's keys enter one generation together (a generation is rotated only between requests,
// and may exceed capacity/2 by one request), so they are remembered and forgotten together: a retry of a
// request finds all of its keys or none, and then publishes its original packets under their original
// msg-ids, which JetStream's duplicate window recognises. A key it forgot is simply published again
// (JetStream's window and the aggregator dedup it). Safe for concurrent use.
type recentlyStored struct {
	mu        sync.Mutex
	half      int
	cur, prev keySet
}

func newRecentlyStored(capacity int) *recentlyStored {
	half := max(capacity/2, 1)
	return &recentlyStored{half: half, cur: newKeySet(half)}
}

// contains sets seen[i] for every keys[i] remembered and reports whether any is.
func (r *recentlyStored) contains(keys []eventKey, seen []bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	any := false
	for i, k := range keys {
		seen[i] = r.cur.has(k) || r.prev.has(k)
		any = any || seen[i]
	}
	return any
}

// add remembers one request's stored keys, in one generation; call it only once they are durably stored.
func (r *recentlyStored) add(keys []eventKey) {
	if len(keys) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.n > 0 && r.cur.n+len(keys) > r.half {
		r.prev, r.cur = r.cur, r.prev.cleared(r.half)
	}
	for _, k := range keys {
		r.cur.add(k)
	}
}

// keySet is a set of eventKeys: an open-addressing table with linear probing, at most half full (it doubles
// when it would be more). Keys are uniform hashes already, so k[0] picks the slot, and a lookup usually reads one
// cache line (with 2^18 keys, it measured about twice as fast as a Go map). The zero key marks a free slot;
// a key that is zero is stored as {0, 1}, which only merges two keys out of 2^128.
type keySet struct {
	slots []eventKey
	n     int
}

// newKeySet returns an empty set for up to capacity keys.
func newKeySet(capacity int) keySet {
	size := 2
	for size < 2*capacity {
		size *= 2
	}
	return keySet{slots: make([]eventKey, size)}
}

// cleared returns s emptied for up to capacity keys, reusing its table when it has one.
func (s keySet) cleared(capacity int) keySet {
	if s.slots == nil {
		return newKeySet(capacity)
	}
	clear(s.slots)
	return keySet{slots: s.slots}
}

// slot returns the index of k, or of the free slot where k belongs.
func (s *keySet) slot(k eventKey) int {
	mask := uint64(len(s.slots) - 1)
	i := k[0] & mask
	for s.slots[i] != k && s.slots[i] != (eventKey{}) {
		i = (i + 1) & mask
	}
	return int(i)
}

func (s *keySet) has(k eventKey) bool {
	if s.n == 0 {
		return false
	}
	return s.slots[s.slot(nonZero(k))] != eventKey{}
}

// add inserts k.
func (s *keySet) add(k eventKey) {
	k = nonZero(k)
	if i := s.slot(k); s.slots[i] == (eventKey{}) {
		if 2*(s.n+1) > len(s.slots) {
			s.grow()
			i = s.slot(k)
		}
		s.slots[i] = k
		s.n++
	}
}

// grow doubles the table.
func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]eventKey, 2*len(old))
	for _, k := range old {
		if k != (eventKey{}) {
			s.slots[s.slot(k)] = k
		}
	}
}

func nonZero(k eventKey) eventKey {
	if k == (eventKey{}) {
		return eventKey{0, 1}
	}
	return k
}
