package events

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Partition returns the partition of a subscription: FNV-1a 32-bit over its
// bytes, mod n, the same function as NATS's {{partition(n,…)}} subject
// transform. n ≤ 0 yields 0.
func Partition(subscription string, n int) int {
	if n <= 0 {
		return 0
	}
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for i := 0; i < len(subscription); i++ {
		h ^= uint32(subscription[i])
		h *= prime32
	}
	return int(h % uint32(n))
}

// tokenEncoding is lowercase base32 without padding.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// encodedTokenLen is len("x") + 32 base32 characters of 20 bytes.
const encodedTokenLen = 33

// SubjectToken returns s if it is a safe NATS subject token (1..64 of
// A-Z a-z 0-9 _ -) and does not look like an encoded token; otherwise
// "x" + lowercase base32 of the first 20 bytes of sha256(s). Distinct inputs
// give distinct tokens unless sha256 collides.
func SubjectToken(s string) string {
	if safeToken(s) && !looksEncoded(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "x" + tokenEncoding.EncodeToString(sum[:20])
}

func safeToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func looksEncoded(s string) bool {
	return len(s) == encodedTokenLen && s[0] == 'x' &&
		strings.Trim(s[1:], "abcdefghijklmnopqrstuvwxyz234567") == ""
}
