package submitter

import (
	"bytes"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

func dec(s string) events.Decimal { return events.MustDecimal(s) }

func decp(s string) *events.Decimal { d := dec(s); return &d }

func TestReportedQuantityIsADelta(t *testing.T) {
	tests := []struct {
		name string
		rec  events.PeriodRecord
		want string
		noop bool
	}{
		{"closed total", events.PeriodRecord{Kind: events.RecordClosed, Mode: events.ModeTotal, Quantity: dec("10")}, "10", false},
		{"sum delta", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeDelta, Quantity: dec("2.5")}, "2.5", false},
		{"max replaced", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeReplace, Quantity: dec("12.5"), Previous: decp("10")}, "2.5", false},
		{"min replaced lower", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeReplace, Quantity: dec("3"), Previous: decp("5")}, "-2", false},
		{"first value late", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeReplace, Quantity: dec("7")}, "7", false},
		{"same value, no amount", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeReplace, Quantity: dec("7"), Previous: decp("7")}, "0", true},
		{"same value, amount moved", events.PeriodRecord{Kind: events.RecordAdjustment, Mode: events.ModeReplace, Quantity: dec("7"), Previous: decp("7"), Amount: decp("1.25")}, "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reported(&tt.rec); !got.Equal(dec(tt.want)) {
				t.Errorf("reported %s, want %s", got, tt.want)
			}
			if got := changesNothing(&tt.rec); got != tt.noop {
				t.Errorf("changesNothing %v, want %v", got, tt.noop)
			}
		})
	}
}

func testSpec(schema events.Schema) ledger.FileSpec {
	return ledger.FileSpec{ProductName: "Test", Schema: schema, Currency: "USD", AssetSearch: "parameter.subscription_id",
		Items: map[string]ledger.ItemSpec{
			"CPU":   {Criteria: usagefile.ItemByMPN, Value: "CPU", Precision: events.PrecisionDecimal4},
			"SEATS": {Criteria: usagefile.ItemByLocalID, Value: "seats_local", Precision: events.PrecisionInteger},
		}}
}

func testSource(kind events.RecordKind, sub, item string, qty string, tier int) source {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r := events.PeriodRecord{Kind: kind, Product: "PRD-1", Contract: "CRD-1", Subscription: sub, Item: item, Tier: tier,
		PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Mode: events.ModeTotal, Quantity: dec(qty),
		Aggregation: events.AggregationSum}
	if kind == events.RecordAdjustment {
		r.Mode, r.Revision = events.ModeDelta, 1
	}
	return source{rec: r, id: r.RecordID(), subject: subjects.Records.Subject("x", "y", time.Time{}, 0), seq: 1}
}

func TestWorkbookRowsReadBack(t *testing.T) {
	spec := testSpec(events.SchemaTR)
	srcs := []source{
		testSource(events.RecordClosed, "sub-1", "CPU", "12.3456", 1),
		testSource(events.RecordAdjustment, "sub-2", "SEATS", "-3", 2),
		testSource(events.RecordClosed, "sub-3", "SEATS", "1.5", 1), // more decimals than the item allows
	}
	wb, err := buildWorkbook(&spec, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if wb.rows != 2 || len(wb.unwritable) != 1 || wb.unwritable[srcs[2].id] == "" {
		t.Fatalf("rows %d, unwritable %v", wb.rows, wb.unwritable)
	}
	read, err := usagefile.Read(bytes.NewReader(wb.data), usagefile.ReadOptions{Schema: events.SchemaTR})
	if err != nil || read.Err() != nil {
		t.Fatalf("read back: %v / %v", err, read.Err())
	}
	if len(read.Records) != 2 {
		t.Fatalf("read %d records", len(read.Records))
	}
	first, second := read.Records[0], read.Records[1]
	if first.RecordID != srcs[0].id || !first.Quantity.Equal(dec("12.3456")) || first.Tier != 1 ||
		first.ItemSearchCriteria != "item.mpn" || first.ItemSearchValue != "CPU" ||
		first.AssetSearchCriteria != "parameter.subscription_id" || first.AssetSearchValue != "sub-1" {
		t.Errorf("first row: %+v", first.Record)
	}
	if got := first.EndTimeUTC.Format(usagefile.TimeLayout); got != "2026-11-30 23:59:59" {
		t.Errorf("end time %s", got)
	}
	if second.ItemSearchCriteria != "item.local_id" || second.ItemSearchValue != "seats_local" ||
		!second.Quantity.Equal(dec("-3")) || second.RecordNote == "" {
		t.Errorf("adjustment row: %+v", second.Record)
	}
}

func TestWorkbookIsDeterministic(t *testing.T) {
	spec := testSpec(events.SchemaQT)
	srcs := []source{testSource(events.RecordClosed, "sub-1", "CPU", "1", 0), testSource(events.RecordClosed, "sub-2", "CPU", "2", 0)}
	a, err := buildWorkbook(&spec, srcs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildWorkbook(&spec, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.data, b.data) {
		t.Fatal("two builds of the same records differ")
	}
}

func TestSpecForCatalog(t *testing.T) {
	cat := testCatalog(t)
	srcs := []source{testSource(events.RecordClosed, "s", "CPU_HOURS", "1", 0), testSource(events.RecordClosed, "s", "GONE", "1", 0)}
	spec, err := specFor(cat, testProduct, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Schema != events.SchemaQT || spec.Currency != "USD" || spec.AssetSearch != "asset.id" {
		t.Errorf("spec %+v", spec)
	}
	if it := spec.Items["CPU_HOURS"]; it.Criteria != "item.mpn" || it.Value != "CPU_HOURS" || it.Precision != events.PrecisionDecimal4 {
		t.Errorf("CPU_HOURS %+v", it)
	}
	if it := spec.Items["GONE"]; it.Precision != events.PrecisionDecimal8 || it.Value != "GONE" {
		t.Errorf("unknown item %+v", it)
	}
	if _, err := specFor(cat, "PRD-NOPE", srcs); err == nil {
		t.Error("unknown product accepted")
	}
}
