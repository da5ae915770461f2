package submitter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// TestRecordsLieInTheirFilesPeriod: every row usagepipe writes lies inside its file's period as Connect
// reads it (from 00:00:00 to 23:59:59 UTC of the period's dates). Connect accepts records outside their
// file's period (and so does the emulator): nothing but this test keeps ours inside. Periods of every kind
// in zones with odd offsets and DST, and fixed periods crossing midnight UTC or shorter than two seconds.
func TestRecordsLieInTheirFilesPeriod(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	specs := []events.PeriodSpec{
		{Kind: events.PeriodMonthly, Location: zone("Europe/Madrid")},
		{Kind: events.PeriodMonthly, Location: zone("Pacific/Chatham")},
		{Kind: events.PeriodMonthly, Location: zone("America/St_Johns")},
		{Kind: events.PeriodMonthlyCutoff, CutoffDay: 15, Location: zone("America/New_York")},
		{Kind: events.PeriodMonthlyCutoff, DaysBeforeEnd: 3, Location: zone("Asia/Tokyo")},
		{Kind: events.PeriodDaily, Location: zone("Asia/Kolkata")},
		{Kind: events.PeriodDaily, Location: zone("Pacific/Kiritimati")},
		{Kind: events.PeriodHourly, Location: zone("Australia/Lord_Howe")},
		{Kind: events.PeriodFixed, Every: time.Second},
		{Kind: events.PeriodFixed, Every: 4 * time.Second},
		{Kind: events.PeriodFixed, Every: 90 * time.Second},
		{Kind: events.PeriodFixed, Every: 7 * time.Hour},
	}
	rng := rand.New(rand.NewPCG(10, 15))
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, spec := range specs {
		for i := range 10 {
			at := from.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
			if i%4 == 0 { // the last seconds before midnight UTC, where a period can cross dates
				at = at.Truncate(24 * time.Hour).Add(24*time.Hour - time.Duration(1+rng.IntN(3))*time.Second)
			}
			checkPeriodRows(t, fmt.Sprintf("%s %v at %s", spec.Kind, spec.Location, at), spec.Containing(at))
		}
	}
}

// checkPeriodRows writes a workbook of records of period p and checks every row against the file's period.
func checkPeriodRows(t *testing.T, name string, p events.Period) {
	t.Helper()
	spec := ledger.FileSpec{Schema: events.SchemaQT, AssetSearch: "asset.id",
		Items: map[string]ledger.ItemSpec{"CPU": {Criteria: usagefile.ItemByMPN, Value: "CPU", Precision: events.PrecisionDecimal4}}}
	var srcs []source
	for _, sub := range []string{"AS-1", "AS-2"} {
		r := events.PeriodRecord{Kind: events.RecordClosed, Product: "PRD-1", Contract: "CRD-1", Subscription: sub, Item: "CPU",
			PeriodStart: p.Start, PeriodEnd: p.End, Mode: events.ModeTotal, Quantity: events.MustDecimal("1"),
			Aggregation: events.AggregationSum}
		srcs = append(srcs, source{rec: r, id: r.RecordID()})
	}
	wb, err := buildWorkbook(&spec, srcs)
	if err != nil {
		t.Fatal(err)
	}
	read, err := usagefile.Read(bytes.NewReader(wb.data), usagefile.ReadOptions{Schema: events.SchemaQT})
	if err != nil || read.Err() != nil || len(read.Records) != len(srcs) {
		t.Fatalf("%s: read back %d rows: %v / %v", name, len(read.Records), err, read.Err())
	}
	filePeriod := connectPeriod(p.Start, p.End)
	first, last := filePeriod.From.Time(), filePeriod.To.Time().Add(24*time.Hour-time.Second)
	for _, r := range read.Records {
		if r.StartTimeUTC.Before(first) || r.EndTimeUTC.After(last) || r.EndTimeUTC.Before(r.StartTimeUTC) {
			t.Fatalf("%s: row %s runs %s..%s, outside its file's period %s 00:00:00..%s 23:59:59", name, r.RecordID,
				r.StartTimeUTC.Format(usagefile.TimeLayout), r.EndTimeUTC.Format(usagefile.TimeLayout), filePeriod.From, filePeriod.To)
		}
	}
}
