package submitter

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Connect's limits on a usage file's name and description, in characters.
const (
	maxName        = 100
	maxDescription = 200
)

// connectPeriod is the file's period as Connect's dates: the UTC dates of the first and the last second of
// [start, end), so every record's start_time_utc and end_time_utc (both UTC) lie within from 00:00:00 and
// to 23:59:59, which is how Connect reads a file period.
func connectPeriod(start, end time.Time) usageapi.Period {
	return usageapi.Period{From: usageapi.DateOf(start.UTC()), To: usageapi.DateOf(lastSecond(start, end).UTC())}
}

// lastSecond is the record end time written to the workbook: end − 1s (Connect's end times are inclusive,
// 23:59:59), or start when the period is shorter than two seconds.
func lastSecond(start, end time.Time) time.Time {
	if t := end.Add(-time.Second); t.After(start) {
		return t
	}
	return start
}

// fileName is a readable name: the product's name and the period in the product's time zone (dates when the
// period runs from midnight to midnight there, else UTC times), then the supplement and part when there are.
func fileName(product string, loc *time.Location, start, end time.Time, rev, part, parts int) string {
	suffix := ""
	if rev > 0 {
		suffix += fmt.Sprintf(" suppl. %d", rev)
	}
	if parts > 1 {
		suffix += fmt.Sprintf(" part %d/%d", part, parts)
	}
	when := " " + periodText(loc, start, end)
	room := maxName - utf8.RuneCountInString(when+suffix)
	return clip(product, max(room, 1)) + when + suffix
}

func periodText(loc *time.Location, start, end time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	s, e := start.In(loc), end.In(loc)
	if midnight(s) && midnight(e) {
		return s.Format(time.DateOnly) + "–" + e.Add(-time.Nanosecond).Format(time.DateOnly)
	}
	return start.UTC().Format("2006-01-02 15:04") + "–" + end.UTC().Format("15:04") + " UTC"
}

func midnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// fileDescription says what the file holds, for people reading Connect.
func fileDescription(id ledger.FileID, end time.Time, records int) string {
	kind := "closed usage"
	if id.Revision > 0 {
		kind = fmt.Sprintf("supplement %d (adjustment deltas)", id.Revision)
	}
	return clip(fmt.Sprintf("usagepipe %s of %s / %s for [%s, %s) UTC, part %d: %d records", kind, id.Product,
		id.Contract, id.PeriodStart.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), id.Part, records), maxDescription)
}

// clip cuts s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
