package events

import (
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestPeriodContaining(t *testing.T) {
	tests := []struct {
		name       string
		spec       PeriodSpec
		zone       string
		at         string
		start, end string
	}{
		// Europe/Madrid: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
		{"madrid daily spring 23h", PeriodSpec{Kind: PeriodDaily}, "Europe/Madrid", "2026-03-29T12:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
		{"madrid daily autumn 25h", PeriodSpec{Kind: PeriodDaily}, "Europe/Madrid", "2026-10-25T12:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"},
		{"madrid hourly before gap", PeriodSpec{Kind: PeriodHourly}, "Europe/Madrid", "2026-03-29T00:59:59.999Z", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"},
		{"madrid hourly after gap", PeriodSpec{Kind: PeriodHourly}, "Europe/Madrid", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
		{"madrid repeated hour first", PeriodSpec{Kind: PeriodHourly}, "Europe/Madrid", "2026-10-25T00:30:00Z", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"},
		{"madrid repeated hour second", PeriodSpec{Kind: PeriodHourly}, "Europe/Madrid", "2026-10-25T01:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"},
		{"madrid monthly across DST", PeriodSpec{Kind: PeriodMonthly}, "Europe/Madrid", "2026-03-15T00:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"},
		{"madrid monthly leap february", PeriodSpec{Kind: PeriodMonthly}, "Europe/Madrid", "2028-02-29T22:59:59Z", "2028-01-31T23:00:00Z", "2028-02-29T23:00:00Z"},
		{"madrid monthly first instant of march", PeriodSpec{Kind: PeriodMonthly}, "Europe/Madrid", "2028-02-29T23:00:00Z", "2028-02-29T23:00:00Z", "2028-03-31T22:00:00Z"},
		// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"new york daily spring", PeriodSpec{Kind: PeriodDaily}, "America/New_York", "2026-03-08T15:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"},
		{"new york daily autumn", PeriodSpec{Kind: PeriodDaily}, "America/New_York", "2026-11-01T15:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"},
		{"new york repeated 01:00 EDT", PeriodSpec{Kind: PeriodHourly}, "America/New_York", "2026-11-01T05:10:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"},
		{"new york repeated 01:00 EST", PeriodSpec{Kind: PeriodHourly}, "America/New_York", "2026-11-01T06:10:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"},
		{"new york 2 days before end, march", PeriodSpec{Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 2}, "America/New_York", "2026-03-29T12:00:00Z", "2026-02-27T05:00:00Z", "2026-03-30T04:00:00Z"},
		{"new york 2 days before end, at boundary", PeriodSpec{Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 2}, "America/New_York", "2026-03-30T04:00:00Z", "2026-03-30T04:00:00Z", "2026-04-29T04:00:00Z"},
		{"new york 1 day before end, leap", PeriodSpec{Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 1}, "America/New_York", "2028-03-01T12:00:00Z", "2028-02-29T05:00:00Z", "2028-03-31T04:00:00Z"},
		{"2 days before end, december wraps", PeriodSpec{Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 2}, "UTC", "2026-12-31T00:00:00Z", "2026-12-30T00:00:00Z", "2027-01-30T00:00:00Z"},
		// Australia/Sydney: 2026-04-05 03:00 AEDT → 02:00 AEST; 2026-10-04 02:00 AEST → 03:00 AEDT.
		{"sydney daily autumn 25h", PeriodSpec{Kind: PeriodDaily}, "Australia/Sydney", "2026-04-05T01:00:00Z", "2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z"},
		{"sydney daily spring 23h", PeriodSpec{Kind: PeriodDaily}, "Australia/Sydney", "2026-10-04T01:00:00Z", "2026-10-03T14:00:00Z", "2026-10-04T13:00:00Z"},
		{"sydney cutoff 15", PeriodSpec{Kind: PeriodMonthlyCutoff, CutoffDay: 15}, "Australia/Sydney", "2026-04-10T00:00:00Z", "2026-03-14T13:00:00Z", "2026-04-14T14:00:00Z"},
		{"sydney cutoff 15 at boundary", PeriodSpec{Kind: PeriodMonthlyCutoff, CutoffDay: 15}, "Australia/Sydney", "2026-04-14T14:00:00Z", "2026-04-14T14:00:00Z", "2026-05-14T14:00:00Z"},
		{"cutoff 10 in january goes back a year", PeriodSpec{Kind: PeriodMonthlyCutoff, CutoffDay: 10}, "UTC", "2027-01-03T00:00:00Z", "2026-12-10T00:00:00Z", "2027-01-10T00:00:00Z"},
		{"utc monthly december", PeriodSpec{Kind: PeriodMonthly}, "UTC", "2026-12-31T23:59:59.999999999Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"utc monthly february non-leap", PeriodSpec{Kind: PeriodMonthly}, "UTC", "2027-02-28T12:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"},
		{"kolkata hourly half-hour offset", PeriodSpec{Kind: PeriodHourly}, "Asia/Kolkata", "2026-06-01T10:45:00Z", "2026-06-01T10:30:00Z", "2026-06-01T11:30:00Z"},
		// Santiago jumps from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 local.
		{"santiago day without midnight", PeriodSpec{Kind: PeriodDaily}, "America/Santiago", "2026-09-06T12:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"},
		{"santiago day before", PeriodSpec{Kind: PeriodDaily}, "America/Santiago", "2026-09-05T12:00:00Z", "2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z"},
		{"fixed 1m", PeriodSpec{Kind: PeriodFixed, Every: time.Minute}, "Europe/Madrid", "2026-03-29T01:00:59.999Z", "2026-03-29T01:00:00Z", "2026-03-29T01:01:00Z"},
		{"fixed 7m epoch aligned", PeriodSpec{Kind: PeriodFixed, Every: 7 * time.Minute}, "UTC", "1970-01-01T00:16:40Z", "1970-01-01T00:14:00Z", "1970-01-01T00:21:00Z"},
		{"fixed before epoch", PeriodSpec{Kind: PeriodFixed, Every: time.Minute}, "UTC", "1969-12-31T23:59:30Z", "1969-12-31T23:59:00Z", "1970-01-01T00:00:00Z"},
		{"fixed sub-second", PeriodSpec{Kind: PeriodFixed, Every: 250 * time.Millisecond}, "UTC", "2026-01-01T00:00:00.3Z", "2026-01-01T00:00:00.25Z", "2026-01-01T00:00:00.5Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Location = mustLoc(t, tt.zone)
			p := spec.Containing(utc(tt.at))
			want := Period{Start: utc(tt.start), End: utc(tt.end)}
			if p != want {
				t.Fatalf("Containing(%s) = %v, want %v", tt.at, p, want)
			}
		})
	}
}

// TestPeriodsTile walks two years in odd steps through every kind and
// several zones: each period contains its instant, is non-empty, is found
// again from its own start, and is followed without gap by Next.
func TestPeriodsTile(t *testing.T) {
	specs := []PeriodSpec{
		{Kind: PeriodHourly}, {Kind: PeriodDaily}, {Kind: PeriodMonthly},
		{Kind: PeriodMonthlyCutoff, CutoffDay: 28}, {Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 2},
		{Kind: PeriodFixed, Every: 90 * time.Second},
	}
	zones := []string{"UTC", "Europe/Madrid", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"}
	start, stop := utc("2026-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z")
	for _, zone := range zones {
		for _, s := range specs {
			s.Location = mustLoc(t, zone)
			for at := start; at.Before(stop); at = at.Add(97*time.Minute + 13*time.Second) {
				p := s.Containing(at)
				if !p.Contains(at) || !p.Start.Before(p.End) {
					t.Fatalf("%s %s: Containing(%v) = %v", zone, s.Kind, at, p)
				}
				if again := s.Containing(p.Start); again != p {
					t.Fatalf("%s %s: Containing(start %v) = %v, want %v", zone, s.Kind, p.Start, again, p)
				}
				if n := s.Next(p); n.Start != p.End || !n.Start.Before(n.End) {
					t.Fatalf("%s %s: Next(%v) = %v", zone, s.Kind, p, n)
				}
			}
		}
	}
}

func TestPeriodInvalidSpecs(t *testing.T) {
	at := utc("2026-05-05T05:05:05Z")
	for _, s := range []PeriodSpec{
		{}, {Kind: "weekly"}, {Kind: PeriodFixed}, {Kind: PeriodMonthlyCutoff},
		{Kind: PeriodMonthlyCutoff, CutoffDay: 29}, {Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 28},
	} {
		if p := s.Containing(at); !p.IsZero() {
			t.Errorf("%+v: Containing = %v, want zero", s, p)
		}
	}
	if p := (PeriodSpec{Kind: PeriodDaily}).Containing(at); p.Start != utc("2026-05-05T00:00:00Z") {
		t.Errorf("nil location is UTC: %v", p)
	}
}

func TestPeriodKey(t *testing.T) {
	p := Period{Start: time.Date(2026, 11, 25, 1, 0, 0, 0, mustLoc(t, "Europe/Madrid"))}
	if k := p.Key(); k != "20261125T000000Z" {
		t.Fatalf("Key = %s", k)
	}
	back, err := ParsePeriodKey("20261125T000000Z")
	if err != nil || !back.Equal(p.Start) || back.Location() != time.UTC {
		t.Fatalf("ParsePeriodKey = %v, %v", back, err)
	}
	for _, k := range []string{"", "20261125T000000", "20261125T000000+0100", "2026-11-25T00:00:00Z", "20261325T000000Z", "20261125t000000z"} {
		if _, err := ParsePeriodKey(k); err == nil {
			t.Errorf("ParsePeriodKey(%q) succeeded", k)
		}
	}
}

func TestPeriodAllocs(t *testing.T) {
	specs := []PeriodSpec{
		{Kind: PeriodHourly}, {Kind: PeriodDaily}, {Kind: PeriodMonthly},
		{Kind: PeriodMonthlyCutoff, CutoffDay: 5}, {Kind: PeriodMonthlyCutoff, DaysBeforeEnd: 2},
		{Kind: PeriodFixed, Every: time.Minute},
	}
	loc := mustLoc(t, "Europe/Madrid")
	at := utc("2026-10-25T01:30:00Z")
	for _, s := range specs {
		s.Location = loc
		if n := testing.AllocsPerRun(50, func() { _ = s.Next(s.Containing(at)) }); n != 0 {
			t.Errorf("%s: %v allocs per Containing+Next, want 0", s.Kind, n)
		}
	}
}

func BenchmarkPeriodContaining(b *testing.B) {
	s := PeriodSpec{Kind: PeriodMonthlyCutoff, CutoffDay: 15, Location: mustLoc(b, "Australia/Sydney")}
	at := utc("2026-04-10T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Containing(at)
	}
}
