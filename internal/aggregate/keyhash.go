package aggregate

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// keyHasher hashes an event key (source, id) once with SHA-256 for two uses: the first 16 bytes are the key's
// term in events.Digest (the digest is defined as the sum of those, see events.Digest), and the next 8 bytes
// are the 64-bit hash the dedup memory stores. The zero value is ready to use; not safe for concurrent use.
type keyHasher struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// hash returns the key's digest term and dedup hash.
func (k *keyHasher) hash(source, id string) (events.Digest, uint64) {
	if k.h == nil {
		k.h = sha256.New()
	}
	k.buf = append(append(append(k.buf[:0], source...), 0), id...)
	k.h.Reset()
	k.h.Write(k.buf)
	sum := k.h.Sum(k.sum[:0])
	var d events.Digest
	copy(d[:], sum[:16])
	return d, binary.BigEndian.Uint64(sum[16:24])
}

// hashString folds s into h word by word; the tail is zero-padded (callers mix the length in).
func hashString(h uint64, s string) uint64 {
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = mix64(h ^ w)
		s = s[8:]
	}
	if len(s) > 0 {
		var w uint64
		for i := 0; i < len(s); i++ {
			w |= uint64(s[i]) << (8 * i)
		}
		h = mix64(h ^ w)
	}
	return h
}

// mix64 is a bijective avalanche mixer (xor-shift / multiply rounds with odd constants).
func mix64(x uint64) uint64 {
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x
}
