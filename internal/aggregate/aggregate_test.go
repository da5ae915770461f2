package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestAggregations(t *testing.T) {
	tests := []struct {
		name       string
		item       string
		packets    [][]events.Event // applied at minutes 1, 2, …
		wantQty    string
		wantAmount string
		wantEvents int64
	}{
		{"sum", "SUM", [][]events.Event{{ev("a", "S", "SUM", mins(1), "1.25"), ev("b", "S", "SUM", mins(2), "2")}, {ev("c", "S", "SUM", mins(3), "0.75")}}, "4", "<nil>", 3},
		{"sum negative allowed", "NEG", [][]events.Event{{ev("a", "S", "NEG", mins(1), "5"), ev("b", "S", "NEG", mins(2), "-7.5")}}, "-2.5", "<nil>", 2},
		{"count ignores quantities", "CNT", [][]events.Event{{ev("a", "S", "CNT", mins(1), "5"), ev("b", "S", "CNT", mins(2), "-7.123")}}, "2", "<nil>", 2},
		{"max", "MAX", [][]events.Event{{ev("a", "S", "MAX", mins(1), "5"), ev("b", "S", "MAX", mins(2), "7.5"), ev("c", "S", "MAX", mins(3), "6")}}, "7.5", "<nil>", 3},
		{"min", "MIN", [][]events.Event{{ev("a", "S", "MIN", mins(1), "5"), ev("b", "S", "MIN", mins(2), "0.5"), ev("c", "S", "MIN", mins(3), "6")}}, "0.5", "<nil>", 3},
		{"last by event time", "LAST", [][]events.Event{{ev("a", "S", "LAST", mins(9), "1"), ev("b", "S", "LAST", mins(2), "2")}, {ev("c", "S", "LAST", mins(5), "3")}}, "1", "<nil>", 3},
		{"last tie goes to the later packet", "LAST", [][]events.Event{{ev("a", "S", "LAST", mins(5), "1")}, {ev("b", "S", "LAST", mins(5), "2")}}, "2", "<nil>", 2},
		{"last tie goes to the later index", "LAST", [][]events.Event{{ev("b", "S", "LAST", mins(5), "1"), ev("a", "S", "LAST", mins(5), "2")}}, "2", "<nil>", 2},
		{"unique_count", "UNQ", [][]events.Event{{ev("a", "S", "UNQ", mins(1), "1", withAttr("user", "u1")), ev("b", "S", "UNQ", mins(2), "1", withAttr("user", "u2"))}, {ev("c", "S", "UNQ", mins(3), "1", withAttr("user", "u1"))}}, "2", "<nil>", 3},
		{"amounts summed", "COST", [][]events.Event{{ev("a", "S", "", mins(1), "1.5", withCost("", "0.10")), ev("b", "S", "", mins(2), "2", withCost("CRD-B1", "0.25"))}}, "3.5", "0.35", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(t))
			var keys []events.Key
			for i, p := range tt.packets {
				if out := h.apply(mins(float64(i+1)), p...); out.Len() != 0 {
					t.Fatalf("packet %d: unexpected output %+v", i, out)
				}
				for _, e := range p {
					keys = append(keys, e.Key())
				}
			}
			out := h.tick(mins(24 * 60))
			r := closedOf(t, out, "S", tt.item)
			if r.Quantity.String() != tt.wantQty || decStr(r.Amount) != tt.wantAmount || r.Events != tt.wantEvents {
				t.Errorf("quantity %s amount %s events %d, want %s %s %d", r.Quantity, decStr(r.Amount), r.Events, tt.wantQty, tt.wantAmount, tt.wantEvents)
			}
			var want events.Digest
			for _, k := range keys {
				want.Add(k)
			}
			if r.Digest != want.String() || r.Kind != events.RecordClosed || r.Mode != events.ModeTotal || r.Revision != 0 {
				t.Errorf("record %+v, want digest %s, closed total revision 0", r, want)
			}
			if r.SourceSeq != uint64(len(tt.packets)) {
				t.Errorf("source seq %d, want %d (last contributing packet)", r.SourceSeq, len(tt.packets))
			}
		})
	}
}

func TestRecordIdentity(t *testing.T) {
	h := newHarness(t, testConfig(t))
	e := ev("a", "AS-1", "", mins(30), "1", withCost("CRD-B2", "1"))
	e.Data.Marketplace = "MP-1"
	h.apply(mins(31), e)
	out := h.tick(t0.Add(48 * time.Hour))
	r := closedOf(t, out, "AS-1", "COST")
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, mustZone(t, "Europe/Madrid"))
	want := events.PeriodRecord{
		Kind: events.RecordClosed, Product: "PRD-CR", Contract: "CRD-B2", Marketplace: "MP-1", Subscription: "AS-1",
		Item: "COST", PeriodStart: day.UTC(), PeriodEnd: day.AddDate(0, 0, 1).UTC(), Aggregation: events.AggregationSum,
		Mode: events.ModeTotal, Events: 1, SourceSeq: 1,
	}
	r.Quantity, r.Amount, r.Digest = events.Decimal{}, nil, ""
	if r != want {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestKeysAreSeparate(t *testing.T) {
	h := newHarness(t, testConfig(t))
	tier := func(n int) func(*events.Event) {
		return func(e *events.Event) { e.Data.Product, e.Data.Item, e.Data.Tier = "PRD-TR", "MINUTES", n }
	}
	h.apply(mins(1),
		ev("1", "AS-1", "SUM", mins(1), "1"),
		ev("2", "AS-2", "SUM", mins(1), "2"),
		ev("3", "AS-1", "SUM", mins(61), "4"),                       // next period
		ev("4", "AS-1", "", mins(1), "8", withCost("CRD-B1", "1")),  // other product
		ev("5", "AS-1", "", mins(1), "16", withCost("CRD-B2", "1")), // other contract
		ev("6", "AS-1", "CNT", mins(1), "1"),                        // other item
		ev("7", "AS-1", "", mins(1), "32", tier(1)),
		ev("8", "AS-1", "", mins(1), "64", tier(2)), // other tier
	)
	out := h.tick(t0.Add(48 * time.Hour))
	got := map[string]string{}
	for _, r := range out.Closed {
		got[fmt.Sprintf("%s/%s/%s/%s/%d/%s", r.Product, r.Contract, r.Subscription, r.Item, r.Tier, r.PeriodStart.Format("15"))] = r.Quantity.String()
	}
	want := map[string]string{
		"PRD-QT/CRD-A/AS-1/SUM/0/10": "1", "PRD-QT/CRD-A/AS-2/SUM/0/10": "2", "PRD-QT/CRD-A/AS-1/SUM/0/11": "4",
		"PRD-CR/CRD-B1/AS-1/COST/0/23": "8", "PRD-CR/CRD-B2/AS-1/COST/0/23": "16", "PRD-QT/CRD-A/AS-1/CNT/0/10": "1",
		"PRD-TR/CRD-T/AS-1/MINUTES/1/10": "32", "PRD-TR/CRD-T/AS-1/MINUTES/2/10": "64",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
