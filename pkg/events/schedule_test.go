package events

import (
	"strings"
	"testing"
)

func TestScheduleWarnings(t *testing.T) {
	product := func(period, lateness string, types ...string) string {
		y := "  - {id: PRD-1, name: P, schema: QT, currency: USD, contracts: [CRD-1], period: " + period +
			", allowed_lateness: " + lateness + ", items: ["
		for i, typ := range types {
			y += "{mpn: I" + string(rune('0'+i)) + ", type: " + typ + ", precision: integer, aggregation: sum},"
		}
		return "products:\n" + y + "]}\n"
	}
	tests := []struct {
		name, yaml string
		want       []string // substrings of the warnings, in order; none: no warning
	}{
		{"daily reservation and ppu", product("{kind: daily}", "1h", "reservation", "ppu"), nil},
		{"fixed 24h reservation", product("{kind: fixed, every: 24h}", "1h", "reservation"), nil},
		{"monthly reservation", product("{kind: monthly}", "1h", "reservation"),
			[]string{"product PRD-1 (I0): reservation items are reported per monthly period; Connect advises reporting them daily"}},
		{"hourly reservation and ppu", product("{kind: hourly}", "1h", "ppu", "reservation"),
			[]string{"(I1): reservation items are reported per hourly period", "(I0): usage is reported per hourly period"}},
		{"fixed demo", product("{kind: fixed, every: 1m}", "10s", "ppu"), []string{"per fixed 1m0s period"}},
		{"calendar month", product("{kind: monthly}", "48h", "ppu"), []string{"calendar-month periods are reported after the month ends"}},
		{"cutoff day", product("{kind: monthly_cutoff, cutoff_day: 15}", "1h", "ppu"), []string{"periods end on day 15 of the month"}},
		{"2 days before the end, 1 day late", product("{kind: monthly_cutoff, days_before_end: 2}", "24h", "ppu"), nil},
		{"1 day before the end, on time", product("{kind: monthly_cutoff, days_before_end: 1}", "0s", "ppu"), nil},
		{"1 day before the end, 1 day late", product("{kind: monthly_cutoff, days_before_end: 1}", "24h", "ppu"),
			[]string{"reported 0s before the end of the month"}},
		{"5 days before the end", product("{kind: monthly_cutoff, days_before_end: 5}", "24h", "ppu"),
			[]string{"reported 96h0m0s before the end of the month"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCatalog([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got := ScheduleWarnings(c)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %v, want %d", got, len(tt.want))
			}
			for i, w := range got {
				if !strings.Contains(w.String(), tt.want[i]) || w.Product != "PRD-1" {
					t.Errorf("warning %d: %q, want it to contain %q", i, w, tt.want[i])
				}
			}
		})
	}
}

// TestExampleCatalogFollowsTheSchedulingAdvice: the shipped example has reservation items, on daily periods,
// and only its demo product (one-minute periods) goes against the advice.
func TestExampleCatalogFollowsTheSchedulingAdvice(t *testing.T) {
	c, err := LoadCatalog("../../deploy/catalog.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reservations := 0
	for _, p := range c.Products {
		for _, it := range p.Items {
			if it.Type == ItemTypeReservation {
				reservations++
			}
		}
	}
	w := ScheduleWarnings(c)
	if len(w) != 1 || w[0].Product != "PRD-DEMO-0001" || reservations == 0 {
		t.Errorf("the example catalog: %d reservation items, warnings %v; want only the demo product's", reservations, w)
	}
}
