package aggregate

import (
	"encoding/binary"
	"math/bits"
)

// idSet remembers the events already counted by a 64-bit hash of their (source, id) (see keyHasher), for at
// least the dedup horizon of arrival time.
//
// Time is cut into generations of horizon/genSpan. An id is tagged with the generation of the clock when it was
// first seen and is remembered while the current generation is at most genSpan generations later: for at least
// the horizon and less than horizon*(genSpan+1)/genSpan. When the generation advances, the ids that fall out are
// swept at once, so the table never holds expired ids and needs no tombstones.
//
// The table is bucketised linear probing: a bucket is one 64-byte cache line holding 7 hashes, their generation
// tags (mod 256) and a fill count. A lookup stops at the first bucket that is not full. The load is kept between
// 0.4 and 0.9 (0.9 doubles the table, a sweep that leaves less than 0.4 halves it), so memory is 64/7/load:
// 10 to 23 bytes per remembered id. Sweeps work in place; only growing and shrinking allocate.
//
// A new id is taken for a duplicate only if its 64-bit hash equals that of one of the n remembered ids:
// probability n/2^64 per event, about 5e-13 with 10 million ids remembered.
type idSet struct {
	buckets []idBucket
	shift   uint  // 64 - log2(len(buckets))
	used    int   // ids remembered
	gen     int64 // current generation
	started bool  // gen is set
	width   int64 // nanoseconds per generation
	counts  [256]int
	sink    uint8 // written by touch
}

const (
	genSpan       = 8 // generations per horizon: a sweep every horizon/8
	bucketSlots   = 7
	minBuckets    = 16
	maxLoadPct    = 90
	shrinkLoadPct = 40
)

// idBucket is one cache line: 7 hashes, then their 7 tags and the fill count in one word.
type idBucket struct {
	hash [bucketSlots]uint64
	meta [bucketSlots + 1]uint8 // meta[j] is the tag of hash[j]; meta[bucketSlots] is the count
}

func (b *idBucket) len() int { return int(b.meta[bucketSlots]) }

func (b *idBucket) full() bool { return b.meta[bucketSlots] == bucketSlots }

func (b *idBucket) push(h uint64, tag uint8) {
	n := b.meta[bucketSlots]
	b.hash[n], b.meta[n] = h, tag
	b.meta[bucketSlots] = n + 1
}

// hasTag reports whether one of the bucket's entries has tag t.
func (b *idBucket) hasTag(t uint8) bool {
	return hasByte(binary.LittleEndian.Uint64(b.meta[:]), byteOnes*uint64(t))
}

const byteOnes, byteHighs = 0x0101010101010101, 0x8080808080808080

// hasByte reports whether one of the first n bytes of the meta word w (n is its top byte) equals the byte
// repeated in pattern.
func hasByte(w, pattern uint64) bool {
	x := (w ^ pattern) | ^(uint64(1)<<(8*(w>>56)) - 1) // the unused bytes and the count never match
	return (x-byteOnes)&^x&byteHighs != 0
}

func newIDSet(horizonNanos int64) *idSet {
	w := max(horizonNanos/genSpan, 1)
	s := &idSet{width: w}
	s.resize(minBuckets)
	return s
}

func (s *idSet) resize(nb int) {
	s.buckets = make([]idBucket, nb)
	s.shift = uint(64 - bits.TrailingZeros(uint(nb)))
}

func (s *idSet) home(h uint64) int {
	return int((h * 0x9e3779b97f4a7c15) >> s.shift)
}

// touch loads h's home bucket so that the lookups of a packet's ids overlap their cache misses instead of
// paying them one after the other.
func (s *idSet) touch(h uint64) {
	s.sink += s.buckets[s.home(h)].meta[bucketSlots]
}

// find reports whether h is remembered and, if not, the bucket where it would go.
func (s *idSet) find(h uint64) (int, bool) {
	mask := len(s.buckets) - 1
	for i := s.home(h); ; i = (i + 1) & mask {
		b := &s.buckets[i]
		for j := 0; j < b.len(); j++ {
			if b.hash[j] == h {
				return i, true
			}
		}
		if !b.full() {
			return i, false
		}
	}
}

func (s *idSet) contains(h uint64) bool {
	_, ok := s.find(h)
	return ok
}

// add remembers h, which is not remembered yet, in the current generation.
func (s *idSet) add(h uint64) {
	bi, _ := s.find(h)
	s.insertAt(bi, h)
}

// insertAt remembers h, which find placed in bucket bi with no change to the set since.
func (s *idSet) insertAt(bi int, h uint64) {
	if (s.used+1)*100 > len(s.buckets)*bucketSlots*maxLoadPct {
		s.rebuild(len(s.buckets) * 2)
		bi, _ = s.find(h)
	}
	s.buckets[bi].push(h, uint8(s.gen))
	s.used++
	s.counts[uint8(s.gen)]++
}

// place puts h in the first bucket with room along its probe sequence (h is known to be absent).
func (s *idSet) place(h uint64, tag uint8) {
	mask := len(s.buckets) - 1
	i := s.home(h)
	for s.buckets[i].full() {
		i = (i + 1) & mask
	}
	s.buckets[i].push(h, tag)
}

// advance moves the current generation to the one containing unixNanos (never backwards) and forgets the ids
// that fall out of the horizon.
func (s *idSet) advance(unixNanos int64) {
	g := floorDiv(unixNanos, s.width)
	if !s.started {
		s.gen, s.started = g, true
		return
	}
	if g <= s.gen {
		return
	}
	old := s.gen
	s.gen = g
	if g-old > genSpan { // every remembered id is older than the horizon now
		s.used, s.counts = 0, [256]int{}
		s.resize(minBuckets)
		return
	}
	var buf [genSpan]uint8
	dying, n := buf[:0], 0
	for a := old - genSpan; a < g-genSpan; a++ {
		if c := s.counts[uint8(a)]; c > 0 {
			n += c
			s.counts[uint8(a)] = 0
			dying = append(dying, uint8(a))
		}
	}
	if n == 0 {
		return
	}
	s.used -= n
	if nb := s.sizeFor(s.used); nb != len(s.buckets) {
		s.rebuild(nb)
	} else {
		s.sweep(dying)
	}
}

// sweep drops the ids tagged with one of the dying tags, in place and in one pass over the table. Removing
// entries can leave room in a bucket that later entries of its run had overflowed past; each such entry moves
// back to the first bucket with room along its probe sequence, so that lookups, which stop at the first bucket
// with room, still find it. Entries only move back, and never past a bucket that had room before the sweep
// (no probe sequence crosses one), so a pass that starts right after such a bucket settles every run, and a
// bucket with nothing dying and no room freed earlier in its run is left as it is.
func (s *idSet) sweep(dying []uint8) {
	nb := len(s.buckets)
	mask := nb - 1
	start := 0
	for i := range s.buckets {
		if !s.buckets[i].full() {
			start = (i + 1) & mask
			break
		}
	}
	var dead [256]bool
	for _, t := range dying {
		dead[t] = true
	}
	one := len(dying) == 1
	pattern := byteOnes * uint64(dying[0])
	freed := false // a bucket of the current run has gained room
	for c := 0; c < nb; c++ {
		i := (start + c) & mask
		b := &s.buckets[i]
		if !freed {
			if one && !hasByte(binary.LittleEndian.Uint64(b.meta[:]), pattern) || !one && !b.hasAny(dying) {
				continue
			}
		}
		wasFull := b.full()
		s.compact(i, &dead, freed)
		if !wasFull {
			freed = false // no probe sequence crosses bucket i
		} else if !b.full() {
			freed = true
		}
	}
}

func (b *idBucket) hasAny(tags []uint8) bool {
	w := binary.LittleEndian.Uint64(b.meta[:])
	for _, t := range tags {
		if hasByte(w, byteOnes*uint64(t)) {
			return true
		}
	}
	return false
}

// compact drops bucket i's dead entries and, if room was freed earlier in the run, moves its overflowed
// entries back to the first bucket with room. The order of entries within a bucket does not matter.
func (s *idSet) compact(i int, dead *[256]bool, freed bool) {
	b := &s.buckets[i]
	n := b.len()
	for j := n - 1; j >= 0; j-- {
		if dead[b.meta[j]] {
			n--
			b.hash[j], b.meta[j] = b.hash[n], b.meta[n]
		}
	}
	if freed {
		for j := n - 1; j >= 0; j-- {
			if k := s.firstRoom(s.home(b.hash[j]), i); k != i {
				s.buckets[k].push(b.hash[j], b.meta[j])
				n--
				b.hash[j], b.meta[j] = b.hash[n], b.meta[n]
			}
		}
	}
	b.meta[bucketSlots] = uint8(n)
}

// firstRoom returns the first bucket from home, before bucket end, that has room; end if none has.
func (s *idSet) firstRoom(home, end int) int {
	mask := len(s.buckets) - 1
	for i := home; i != end; i = (i + 1) & mask {
		if !s.buckets[i].full() {
			return i
		}
	}
	return end
}

// sizeFor is the bucket count after a sweep leaving n ids: the current one, halved while the load would stay
// below shrinkLoadPct, doubled while above maxLoadPct.
func (s *idSet) sizeFor(n int) int {
	nb := len(s.buckets)
	for nb > minBuckets && n*100 < nb*bucketSlots*shrinkLoadPct {
		nb /= 2
	}
	for n*100 > nb*bucketSlots*maxLoadPct {
		nb *= 2
	}
	return nb
}

// rebuild moves the live ids into a table of nb buckets, dropping those whose generation has expired.
func (s *idSet) rebuild(nb int) {
	old := s.buckets
	s.resize(nb)
	cur := uint8(s.gen)
	for i := range old {
		b := &old[i]
		for j := 0; j < b.len(); j++ {
			if cur-b.meta[j] <= genSpan {
				s.place(b.hash[j], b.meta[j])
			}
		}
	}
}

// bytes is the memory held by the table.
func (s *idSet) bytes() int { return len(s.buckets) * 64 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
