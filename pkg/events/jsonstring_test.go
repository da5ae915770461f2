package events

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestPlainRunExhaustive: the eight-bytes-at-a-time scan stops exactly where a byte-by-byte scan stops, for
// every byte value at every position of a word, whatever surrounds it.
func TestPlainRunExhaustive(t *testing.T) {
	naive := func(s string, i int) int {
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		return i
	}
	buf := make([]byte, 24)
	for pos := range 16 {
		for c := range 256 {
			for _, fill := range []byte{'a', ' ', '!', '#', '[', ']', '~', 0x7f} {
				for j := range buf {
					buf[j] = fill
				}
				buf[pos] = byte(c)
				s := string(buf)
				for _, from := range []int{0, 1, 5} {
					if got, want := plainRun(s, from), naive(s, from); got != want {
						t.Fatalf("byte %#x at %d among %q from %d: plainRun %d, want %d", c, pos, fill, from, got, want)
					}
				}
			}
		}
	}
}

// TestAppendJSONStringMatchesEncodingJSON compares with encoding/json without HTML escaping.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "\n", "\x01", "\x7f", "é", "漢", "\u2028", "\u2029", "\xff", "\xe2\x80", "<", "&"}
	for range 20000 {
		var s string
		for range r.IntN(40) {
			s += alphabet[r.IntN(len(alphabet))]
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got)+"\n" != want.String() {
			t.Fatalf("%q: appendJSONString %s, encoding/json %s", s, got, want.String())
		}
	}
}
