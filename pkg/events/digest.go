package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// Digest is an order-independent digest of a set of event keys: the sum mod
// 2^128 of the first 16 bytes (big-endian) of sha256(source 0x00 id) of each
// key. Adding the same keys in any order, or merging partial digests, gives
// the same value. The zero value is the digest of no keys.
type Digest [16]byte

// Add adds one key.
func (d *Digest) Add(k Key) {
	var buf [2*MaxAttributeBytes + 1]byte
	b := append(buf[:0], k.Source...)
	b = append(b, 0)
	b = append(b, k.ID...)
	sum := sha256.Sum256(b)
	d.add(sum[:16])
}

// Merge adds every key of o.
func (d *Digest) Merge(o Digest) { d.add(o[:]) }

func (d *Digest) add(x []byte) {
	lo, c := bits.Add64(binary.BigEndian.Uint64(d[8:]), binary.BigEndian.Uint64(x[8:]), 0)
	hi, _ := bits.Add64(binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(x[:8]), c)
	binary.BigEndian.PutUint64(d[:8], hi)
	binary.BigEndian.PutUint64(d[8:], lo)
}

// String is the lowercase hex form (32 characters).
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the digest of no keys.
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest reads Digest.String.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return d, fmt.Errorf("events: bad digest %q", s)
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return Digest{}, fmt.Errorf("events: bad digest %q: %w", s, err)
	}
	return d, nil
}
