package aggregate

import "testing"

func TestDbgSweep(t *testing.T) {
	s := newIDSet(genSpan * 1000)
	i := uint64(0)
	for g := int64(0); g < 40; g++ {
		s.advance(g * 1000)
		for k := 0; k < 60000; k++ {
			i++
			s.add(mix64(i))
		}
		if g > 20 {
			full, dyingB := 0, 0
			for j := range s.buckets {
				if s.buckets[j].full() {
					full++
				}
				if s.buckets[j].hasTag(uint8(g - genSpan)) {
					dyingB++
				}
			}
			t.Logf("gen %d buckets %d used %d load %.2f full %d dyingBuckets %d", g, len(s.buckets), s.used, float64(s.used)/float64(len(s.buckets)*7), full, dyingB)
		}
	}
}
