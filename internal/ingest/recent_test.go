package ingest

import (
	"fmt"
	"testing"
)

func TestKeySetAgreesWithAMap(t *testing.T) {
	kh := newKeyHasher()
	s, m := newKeySet(1000), map[eventKey]bool{}
	for i := range 1000 {
		k := kh.key("src", fmt.Sprint(i%700))
		if i%3 == 0 {
			k = eventKey{k[0] & 0xff, k[1]} // many keys on few slots: long probe runs
		}
		s.add(k)
		m[k] = true
	}
	s.add(eventKey{})
	m[eventKey{}] = true
	if s.n != len(m) {
		t.Fatalf("set has %d keys, map %d", s.n, len(m))
	}
	for i := range 2000 {
		k := kh.key("src", fmt.Sprint(i))
		for _, k := range []eventKey{k, {k[0] & 0xff, k[1]}} {
			if s.has(k) != m[k] {
				t.Fatalf("key %v: set says %v, map %v", k, s.has(k), m[k])
			}
		}
	}
	if !s.has(eventKey{}) {
		t.Error("the zero key is not remembered")
	}
	if c := s.cleared(1000); c.n != 0 || c.has(eventKey{}) || c.has(kh.key("src", "1")) {
		t.Error("a cleared set remembers keys")
	}
}
