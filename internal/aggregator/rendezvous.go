package aggregator

import (
	"hash/fnv"
	"strconv"
)

// desiredOwner is the rendezvous (highest random weight) choice of owner for partition p among members: every
// member scores hash(member, p) and the highest score wins, ties broken by the smaller id. Adding or removing a
// member moves only the partitions that member wins or loses, about P/N of them. It returns "" for no members.
func desiredOwner(members []string, p int) string {
	best, bestScore := "", uint64(0)
	for _, m := range members {
		s := rendezvousScore(m, p)
		if best == "" || s > bestScore || (s == bestScore && m < best) {
			best, bestScore = m, s
		}
	}
	return best
}

// rendezvousScore hashes (member, partition) with FNV-1a and a splitmix64 finaliser, so that scores of similar
// member ids are unrelated.
func rendezvousScore(member string, p int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(p)))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
