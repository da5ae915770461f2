package aggregate

// hashKey returns a deterministic 64-bit hash of an event's (source, id). It is stable across processes and
// versions of Go (it is stored in snapshots), so it cannot use hash/maphash. Each 8-byte word is folded into the
// state through a bijective mixer, so two different inputs of the same shape collide only if two effectively
// random 64-bit states collide; the length of source separates the two strings.
func hashKey(source, id string) uint64 {
	h := hashString(0x6a09e667f3bcc908, source)
	h = mix64(h ^ uint64(len(source)))
	h = hashString(h, id)
	return mix64(h ^ uint64(len(id))<<1 ^ 1)
}

// hashString folds s into h word by word; the tail is zero-padded (the caller mixes the length in).
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
