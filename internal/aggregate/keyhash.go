package aggregate

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// keyHasher hashes an event key (source, id) once with SHA-256 of source 0x00 id for two uses: the first 16
// bytes are the key's term in events.Digest (the digest is defined as the sum of those, see events.Digest), and
// the next 8 bytes are the 64-bit hash the dedup memory stores. That input is ambiguous only when the source
// holds a NUL byte ("a\x00b", "c" and "a", "b\x00c"); such keys get their dedup hash from a second,
// length-prefixed SHA-256. The zero value is ready to use; not safe for concurrent use.
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
	if strings.IndexByte(source, 0) < 0 {
		return d, binary.BigEndian.Uint64(sum[16:24])
	}
	k.buf = append(append(binary.AppendUvarint(k.buf[:0], uint64(len(source))), source...), id...)
	k.h.Reset()
	k.h.Write(k.buf)
	return d, binary.BigEndian.Uint64(k.h.Sum(k.sum[:0]))
}
