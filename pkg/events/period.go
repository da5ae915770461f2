package events

import (
	"fmt"
	"time"
)

// PeriodKind is how a product's usage is cut into reporting periods.
type PeriodKind string

// Period kinds.
const (
	PeriodHourly        PeriodKind = "hourly"
	PeriodDaily         PeriodKind = "daily"
	PeriodMonthly       PeriodKind = "monthly"
	PeriodMonthlyCutoff PeriodKind = "monthly_cutoff"
	PeriodFixed         PeriodKind = "fixed"
)

// PeriodSpec defines a product's periods. Hourly, daily and monthly
// boundaries are wall-clock boundaries in Location (UTC when nil), so a daily
// period lasts 23 or 25 hours across a DST change.
type PeriodSpec struct {
	Kind PeriodKind
	// CutoffDay (monthly_cutoff, 1..28): periods run from this day 00:00
	// local to the same day next month.
	CutoffDay int
	// DaysBeforeEnd (monthly_cutoff, 1..27, instead of CutoffDay): periods
	// end N days before the month's end, at 00:00 local.
	DaysBeforeEnd int
	// Every (fixed): periods of this length aligned to the Unix epoch,
	// independent of Location; for demos and tests.
	Every time.Duration
	// Location is set from the product's time zone.
	Location *time.Location
}

// Period is the half-open interval [Start, End) of UTC instants.
type Period struct{ Start, End time.Time }

// periodKeyLayout formats a period start as a NATS subject token.
const periodKeyLayout = "20060102T150405Z"

// Contains reports whether t is in p.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// Key is the period start in UTC ("20261125T000000Z"), a valid subject token.
func (p Period) Key() string { return p.Start.UTC().Format(periodKeyLayout) }

// String is "[start, end)" in RFC 3339.
func (p Period) String() string {
	return "[" + p.Start.Format(time.RFC3339) + ", " + p.End.Format(time.RFC3339) + ")"
}

// ParsePeriodKey parses a Period.Key.
func ParsePeriodKey(k string) (time.Time, error) {
	t, err := time.Parse(periodKeyLayout, k)
	if err != nil || t.Format(periodKeyLayout) != k {
		return time.Time{}, fmt.Errorf("events: bad period key %q", k)
	}
	return t.UTC(), nil
}

// Containing returns the period containing t. An invalid spec (unknown kind,
// out-of-range day, non-positive Every) yields the zero Period.
func (s PeriodSpec) Containing(t time.Time) Period {
	switch s.Kind {
	case PeriodHourly:
		return s.hourly(t)
	case PeriodDaily:
		return s.daily(t)
	case PeriodMonthly:
		return s.monthly(t)
	case PeriodMonthlyCutoff:
		if s.CutoffDay > 0 {
			return s.cutoff(t)
		}
		return s.beforeEnd(t)
	case PeriodFixed:
		return s.fixed(t)
	}
	return Period{}
}

// Next returns the period that follows p.
func (s PeriodSpec) Next(p Period) Period { return s.Containing(p.End) }

func (s PeriodSpec) loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

func utcPeriod(start, end time.Time) Period { return Period{Start: start.UTC(), End: end.UTC()} }

// hourly cuts at each instant whose local reading is hh:00:00: a repeated
// hour (DST end) is two periods, a skipped hour none, and a half-hour shift
// (Australia/Lord_Howe) lengthens the period it falls in.
func (s PeriodSpec) hourly(t time.Time) Period {
	loc := s.loc()
	return utcPeriod(hourStart(t, loc), nextHour(t, loc))
}

// hourStart is the latest instant ≤ t that reads hh:00:00 locally.
func hourStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	c := l.Add(-sinceHour(l))
	if zs, _ := l.ZoneBounds(); !zs.IsZero() && c.Before(zs) {
		return hourStart(zs.Add(-time.Nanosecond), loc)
	}
	return c
}

// nextHour is the earliest instant > t that reads hh:00:00 locally.
func nextHour(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	c := l.Add(time.Hour - sinceHour(l))
	if _, ze := l.ZoneBounds(); !ze.IsZero() && !c.Before(ze) {
		if z := ze.In(loc); sinceHour(z) == 0 {
			return z
		}
		return nextHour(ze, loc)
	}
	return c
}

func sinceHour(l time.Time) time.Duration {
	return time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
}

func (s PeriodSpec) daily(t time.Time) Period {
	loc := s.loc()
	y, m, d := t.In(loc).Date()
	return utcPeriod(dayStart(y, m, d, loc), dayStart(y, m, d+1, loc))
}

func (s PeriodSpec) monthly(t time.Time) Period {
	loc := s.loc()
	y, m, _ := t.In(loc).Date()
	return utcPeriod(dayStart(y, m, 1, loc), dayStart(y, m+1, 1, loc))
}

func (s PeriodSpec) cutoff(t time.Time) Period {
	if s.CutoffDay > 28 {
		return Period{}
	}
	loc := s.loc()
	y, m, d := t.In(loc).Date()
	if d < s.CutoffDay {
		m--
	}
	return utcPeriod(dayStart(y, m, s.CutoffDay, loc), dayStart(y, m+1, s.CutoffDay, loc))
}

// beforeEnd: the boundary in month m is 00:00 on day (last day − N + 1),
// i.e. day 1−N of month m+1, which time.Date normalizes.
func (s PeriodSpec) beforeEnd(t time.Time) Period {
	n := s.DaysBeforeEnd
	if n < 1 || n > 27 {
		return Period{}
	}
	loc := s.loc()
	y, m, _ := t.In(loc).Date()
	b := dayStart(y, m+1, 1-n, loc)
	if t.Before(b) {
		return utcPeriod(dayStart(y, m, 1-n, loc), b)
	}
	return utcPeriod(b, dayStart(y, m+2, 1-n, loc))
}

func (s PeriodSpec) fixed(t time.Time) Period {
	e := s.Every
	if e <= 0 {
		return Period{}
	}
	var start time.Time
	if e%time.Second == 0 {
		n := int64(e / time.Second)
		sec := t.Unix()
		start = time.Unix(sec-floorMod(sec, n), 0)
	} else {
		ns := t.UnixNano()
		start = time.Unix(0, ns-floorMod(ns, int64(e)))
	}
	return utcPeriod(start, start.Add(e))
}

func floorMod(a, n int64) int64 {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}

// dayStart is the first instant of local date (y, m, d), normalized. When
// midnight does not exist (a DST jump at 00:00) it is the instant the day
// begins, i.e. the end of the previous zone period.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	_, _, got := t.Date()
	_, _, want := time.Date(y, m, d, 12, 0, 0, 0, loc).Date()
	if got != want {
		_, end := t.ZoneBounds()
		return end
	}
	return t
}
