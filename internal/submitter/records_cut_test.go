package submitter

import "testing"

func TestPartsCoverEveryRecordOnce(t *testing.T) {
	for _, tt := range []struct{ n, limit, parts int }{{0, 10, 1}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {25, 10, 3}, {100, 1, 100}} {
		if got := partCount(tt.n, tt.limit); got != tt.parts {
			t.Errorf("partCount(%d, %d) = %d, want %d", tt.n, tt.limit, got, tt.parts)
		}
		next := 0
		for part := 1; part <= tt.parts; part++ {
			lo, hi := partRange(part, tt.limit, tt.n)
			if lo != next || hi-lo > tt.limit || (hi == lo && tt.n > 0) {
				t.Errorf("n %d limit %d part %d: [%d, %d)", tt.n, tt.limit, part, lo, hi)
			}
			next = hi
		}
		if next != tt.n {
			t.Errorf("n %d limit %d: parts end at %d", tt.n, tt.limit, next)
		}
	}
}
