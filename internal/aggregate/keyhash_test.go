package aggregate

import (
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestKeyHasherMatchesDigest checks that the digest term computed with the dedup hash is the one
// events.Digest.Add adds, for short, empty and long keys.
func TestKeyHasherMatchesDigest(t *testing.T) {
	var kh keyHasher
	long := strings.Repeat("x", 3*events.MaxAttributeBytes)
	seen := map[uint64]bool{}
	for _, k := range [][2]string{{"s", "1"}, {"s", "2"}, {"", ""}, {"s1", ""}, {"", "s1"}, {long, long + "y"}, {"a\x00b", "c"}, {"a", "b\x00c"}} {
		k := events.Key{Source: k[0], ID: k[1]}
		var want, got events.Digest
		want.Add(k)
		term, h := kh.hash(k.Source, k.ID)
		got.Merge(term)
		if got != want {
			t.Errorf("%q: term %s, want %s", k, got, want)
		}
		if seen[h] {
			t.Errorf("%q: dedup hash %x repeats", k, h)
		}
		seen[h] = true
	}
}
