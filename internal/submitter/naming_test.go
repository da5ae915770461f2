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
