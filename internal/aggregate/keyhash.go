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
