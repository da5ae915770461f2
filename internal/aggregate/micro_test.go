package aggregate

import (
	"crypto/sha256"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

var sinkU uint64
var sinkB bool

func BenchmarkMicroHashKeyOld(b *testing.B) {
	for b.Loop() {
		sinkU += hashKey("bench-1234", "evt-1234567")
	}
}

func BenchmarkMicroDigest(b *testing.B) {
	var d events.Digest
	k := events.Key{Source: "bench-1234", ID: "evt-1234567"}
	for b.Loop() {
		d.Add(k)
	}
}

func BenchmarkMicroIDSet(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 16, 1 << 20, 1 << 22} {
		b.Run(itoa(n), func(b *testing.B) {
			s := newIDSet(1 << 40)
			s.advance(1)
			for i := 0; i < n; i++ {
				s.add(mix64(uint64(i) + 1))
			}
			i := uint64(0)
			for b.Loop() {
				i++
				sinkB = s.contains(mix64(i + 1<<40))
			}
		})
	}
}

func itoa(n int) string {
	return string(rune('0'+len(sinkStr(n)))) + "-" + sinkStr(n)
}

func sinkStr(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func BenchmarkMicroSHA(b *testing.B) {
	src, id := "bench-1234", "evt-1234567"
	b.Run("Sum256", func(b *testing.B) {
		var buf [64]byte
		for b.Loop() {
			x := append(buf[:0], src...)
			x = append(x, 0)
			x = append(x, id...)
			s := sha256.Sum256(x)
			sinkU += uint64(s[0])
		}
	})
	b.Run("Reuse", func(b *testing.B) {
		h := sha256.New()
		var buf, out [64]byte
		for b.Loop() {
			x := append(buf[:0], src...)
			x = append(x, 0)
			x = append(x, id...)
			h.Reset()
			h.Write(x)
			s := h.Sum(out[:0])
			sinkU += uint64(s[0])
		}
	})
}

func BenchmarkMicroIDSetBatch(b *testing.B) {
	s := newIDSet(1 << 40)
	s.advance(1)
	for i := 0; i < 1<<22; i++ {
		s.add(mix64(uint64(i) + 1))
	}
	var hs [64]uint64
	i := uint64(0)
	for _, touch := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "touch"}[touch], func(b *testing.B) {
			for b.Loop() {
				for j := range hs {
					i++
					hs[j] = mix64(i + 1<<40)
					if touch {
						s.touch(hs[j])
					}
				}
				for j := range hs {
					sinkB = s.contains(hs[j])
				}
			}
		})
	}
}

func BenchmarkMicroKeyHash(b *testing.B) {
	src, id := "bench-1234", "evt-1234567"
	b.Run("DigestAdd+hashKey", func(b *testing.B) {
		b.ReportAllocs()
		var d events.Digest
		for b.Loop() {
			d.Add(events.Key{Source: src, ID: id})
			sinkU += hashKey(src, id)
		}
	})
	b.Run("oneSHA", func(b *testing.B) {
		b.ReportAllocs()
		var kh keyHasher
		var d events.Digest
		for b.Loop() {
			c, h := kh.hash(src, id)
			d.Merge(c)
			sinkU += h
		}
	})
}

// hashKey is the former dedup hash, kept for comparison.
func hashKey(source, id string) uint64 {
	h := hashString(0x6a09e667f3bcc908, source)
	h = mix64(h ^ uint64(len(source)))
	h = hashString(h, id)
	return mix64(h ^ uint64(len(id))<<1 ^ 1)
}
