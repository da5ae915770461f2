package submitter

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestConnectPeriodAndTimes(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, madrid) // 2026-10-31T23:00Z
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, madrid)
	p := connectPeriod(start, end)
	if p.From.String() != "2026-10-31" || p.To.String() != "2026-11-30" {
		t.Errorf("period %s..%s", p.From, p.To)
	}
	if got := fileName("Cloud Storage", madrid, start, end, 0, 1, 1); got != "Cloud Storage 2026-11-01–2026-11-30" {
		t.Errorf("name %q", got)
	}
	minute := time.Date(2026, 11, 25, 10, 1, 0, 0, time.UTC)
	if got := fileName("Demo", time.UTC, minute, minute.Add(time.Minute), 1, 2, 3); got != "Demo 2026-11-25 10:01–10:02 UTC suppl. 1 part 2/3" {
		t.Errorf("name %q", got)
	}
	if got := fileName(strings.Repeat("Long ", 50), time.UTC, minute, minute.Add(time.Minute), 0, 1, 1); utf8.RuneCountInString(got) > maxName {
		t.Errorf("name has %d characters: %q", utf8.RuneCountInString(got), got)
	}
	if got := lastSecond(minute, minute.Add(time.Minute)); !got.Equal(minute.Add(59 * time.Second)) {
		t.Errorf("last second %v", got)
	}
}

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
