package aggregate

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestKeyIndexMatchesMap inserts and removes random keys (with growth, shrinking and wrapped runs) and checks
// every lookup against a map.
func TestKeyIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newState(Config{})
	ref := map[keyID]int32{}
	var live []keyID
	for step := 0; step < 50000; step++ {
		k := keyID{sub: "AS-" + strconv.Itoa(rng.IntN(3000)), start: int64(rng.IntN(4)), meter: uint32(rng.IntN(3)), tier: int32(rng.IntN(2))}
		_, have := ref[k]
		switch {
		case !have && rng.IntN(3) > 0:
			idx := s.slab.alloc()
			s.slab.at(idx).key = k
			s.insert(hashKeyID(&k), idx)
			ref[k] = idx
			live = append(live, k)
		case len(live) > 0 && rng.IntN(2) == 0:
			i := rng.IntN(len(live))
			d := live[i]
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			s.remove(&d)
			s.slab.release(ref[d])
			delete(ref, d)
			if rng.IntN(100) == 0 {
				s.shrinkIndex()
			}
		}
		want, ok := ref[k]
		if !ok {
			want = -1
		}
		if got := s.find(hashKeyID(&k), &k); got != want {
			t.Fatalf("step %d: find(%+v) = %d, want %d", step, k, got, want)
		}
		if s.index.n != len(ref) {
			t.Fatalf("step %d: index holds %d keys, want %d", step, s.index.n, len(ref))
		}
	}
	for k, idx := range ref {
		if got := s.find(hashKeyID(&k), &k); got != idx {
			t.Fatalf("find(%+v) = %d, want %d", k, got, idx)
		}
	}
}
