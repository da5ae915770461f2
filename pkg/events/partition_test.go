package events

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"testing"
)

func TestPartitionMatchesFNV1a(t *testing.T) {
	// Known FNV-1a 32 vectors: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968.
	vectors := map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "foobar": 0xbf9cf968}
	for s, h := range vectors {
		if have, want := Partition(s, 1<<30), int(h%(1<<30)); have != want {
			t.Errorf("Partition(%q) = %d, want %d", s, have, want)
		}
	}
	for i := 0; i < 1000; i++ {
		s := fmt.Sprintf("AS-%04d-%04d-%04d", i, i*7, i*13)
		h := fnv.New32a()
		h.Write([]byte(s))
		for _, n := range []int{1, 3, 16, 64} {
			if have, want := Partition(s, n), int(h.Sum32()%uint32(n)); have != want {
				t.Fatalf("Partition(%q, %d) = %d, want %d", s, n, have, want)
			}
		}
	}
	if Partition("AS-1", 0) != 0 || Partition("AS-1", -3) != 0 {
		t.Error("n ≤ 0 must yield 0")
	}
}

func TestSubjectToken(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	unchanged := []string{"PRD-123-456-789", "CRD-00001", "AS_1", strings.Repeat("a", 64), "x"}
	for _, s := range unchanged {
		if have := SubjectToken(s); have != s {
			t.Errorf("SubjectToken(%q) = %q, want unchanged", s, have)
		}
	}
	encoded := []string{"", "a.b", "a b", "*", ">", "ü", strings.Repeat("a", 65), "vendor/sub:42"}
	seen := map[string]string{}
	for _, s := range encoded {
		tok := SubjectToken(s)
		if !valid.MatchString(tok) || len(tok) != 33 || tok[0] != 'x' {
			t.Errorf("SubjectToken(%q) = %q, not an encoded token", s, tok)
		}
		if tok != SubjectToken(s) {
			t.Errorf("SubjectToken(%q) is not deterministic", s)
		}
		if prev, dup := seen[tok]; dup {
			t.Errorf("SubjectToken(%q) = SubjectToken(%q)", s, prev)
		}
		seen[tok] = s
	}
	// A token that looks encoded is encoded again, so it cannot collide with the encoding of another string.
	enc := SubjectToken("a.b")
	if again := SubjectToken(enc); again == enc || !valid.MatchString(again) {
		t.Errorf("SubjectToken(%q) = %q", enc, again)
	}
}

func BenchmarkPartition(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += Partition("AS-8817-2231-0042", 16)
	}
	_ = n
}
