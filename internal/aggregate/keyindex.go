package aggregate

import "hash/maphash"

// keyIndex maps keys to their aggregate in the slab. It is open addressing with linear probing over 8-byte
// slots: the low 32 bits of the key's hash (so a probe rarely touches an aggregate that is not the one wanted)
// and the slab index + 1 (0 is an empty slot). The load stays between 3/16 and 3/4: 11 to 43 bytes per key,
// against about 60 for a Go map of the same keys, and a packet can touch its slots ahead of use (see touch).
type keyIndex struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
	n     int
}

const minKeySlots = 64

// keySeed seeds the key index's hash. The index lives in memory only (Restore rebuilds it), so its layout may
// differ between processes without changing any output.
var keySeed = maphash.MakeSeed()

func hashKeyID(k *keyID) uint64 { return maphash.Comparable(keySeed, *k) }

func (x *keyIndex) reset(n int) {
	x.slots = make([]uint64, n)
	x.shift = 64 - uint(log2(n))
	x.n = 0
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

func (x *keyIndex) home(h uint64) int { return int(h >> x.shift) }

// touch loads the home slot of h, so that the misses of a packet's keys overlap.
func (x *keyIndex) touch(h uint64) uint64 { return x.slots[x.home(h)] }

// find returns the slab index of key k with hash h, or -1.
func (s *State) find(h uint64, k *keyID) int32 {
	x := &s.index
	mask := len(x.slots) - 1
	for i := x.home(h); ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return -1
		}
		if uint32(v>>32) == uint32(h) {
			if idx := int32(uint32(v)) - 1; s.slab.at(idx).key == *k {
				return idx
			}
		}
	}
}

// insert adds slab index idx, whose key has hash h and is not in the index.
func (s *State) insert(h uint64, idx int32) {
	x := &s.index
	if (x.n+1)*4 > len(x.slots)*3 {
		s.reindex(len(x.slots) * 2)
	}
	x.place(h, idx)
	x.n++
}

func (x *keyIndex) place(h uint64, idx int32) {
	mask := len(x.slots) - 1
	i := x.home(h)
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = uint64(uint32(h))<<32 | uint64(uint32(idx+1))
}

// remove deletes k, moving later entries of its run back so that no lookup stops short (no tombstones).
func (s *State) remove(k *keyID) {
	x := &s.index
	mask := len(x.slots) - 1
	h := hashKeyID(k)
	i := x.home(h)
	for s.slab.at(int32(uint32(x.slots[i]))-1).key != *k {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		hj := x.home(hashKeyID(&s.slab.at(int32(uint32(x.slots[j])) - 1).key))
		if !cyclicIn(hj, i, j) {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
	x.n--
}

// cyclicIn reports whether h lies in the cyclic interval (i, j].
func cyclicIn(h, i, j int) bool {
	if i <= j {
		return i < h && h <= j
	}
	return h > i || h <= j
}

// reindex rebuilds the index with n slots from the aggregates it holds.
func (s *State) reindex(n int) {
	old := s.index.slots
	s.index.reset(n)
	for _, v := range old {
		if v != 0 {
			idx := int32(uint32(v)) - 1
			s.index.place(hashKeyID(&s.slab.at(idx).key), idx)
			s.index.n++
		}
	}
}

// shrinkIndex halves the index while it is less than 3/16 full.
func (s *State) shrinkIndex() {
	n := len(s.index.slots)
	for n > minKeySlots && s.index.n*16 < n*3 {
		n /= 2
	}
	if n != len(s.index.slots) {
		s.reindex(n)
	}
}
