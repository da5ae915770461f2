package aggregate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

func TestDeadLetters(t *testing.T) {
	product := func(p string) func(*events.Event) { return func(e *events.Event) { e.Data.Product = p } }
	contract := func(c string) func(*events.Event) { return func(e *events.Event) { e.Data.Contract = c } }
	amount := func(a string) func(*events.Event) {
		return func(e *events.Event) { d := events.MustDecimal(a); e.Data.Amount = &d }
	}
	tier := func(n int) func(*events.Event) { return func(e *events.Event) { e.Data.Tier = n } }
	tests := []struct {
		name string
		e    events.Event
		want events.Reason // "" means applied
	}{
		{"unknown product", ev("1", "S", "SUM", mins(1), "1", product("PRD-GONE")), events.ReasonUnknownProduct},
		{"unknown item", ev("1", "S", "GONE", mins(1), "1"), events.ReasonUnknownItem},
		{"unknown contract", ev("1", "S", "SUM", mins(1), "1", contract("CRD-X")), events.ReasonUnknownContract},
		{"named default contract", ev("1", "S", "SUM", mins(1), "1", contract("CRD-A")), ""},
		{"too many decimals", ev("1", "S", "SUM", mins(1), "1.001"), events.ReasonBadQuantity},
		{"trailing zeros are fine", ev("1", "S", "SUM", mins(1), "1.0100"), ""},
		{"negative not allowed", ev("1", "S", "MAX", mins(1), "-1"), events.ReasonBadQuantity},
		{"negative allowed", ev("1", "S", "NEG", mins(1), "-1"), ""},
		{"count ignores the quantity", ev("1", "S", "CNT", mins(1), "-1.12345"), ""},
		{"negative amount", ev("1", "S", "SUM", mins(1), "1", amount("-1")), events.ReasonBadAmount},
		{"amount decimals", ev("1", "S", "SUM", mins(1), "1", amount("0.000000001")), events.ReasonBadAmount},
		{"negative tier", ev("1", "S", "SUM", mins(1), "1", tier(-1)), events.ReasonBadTier},
		{"missing unique attribute", ev("1", "S", "UNQ", mins(1), "1"), events.ReasonMissingAttribute},
		{"empty unique attribute", ev("1", "S", "UNQ", mins(1), "1", withAttr("user", "")), events.ReasonMissingAttribute},
		{"unique attribute", ev("1", "S", "UNQ", mins(1), "1", withAttr("user", "u")), ""},
		{"too late", ev("1", "S", "SUM", mins(-7*60), "1"), events.ReasonTooLate},
		{"late but not too late", ev("1", "S", "SUM", mins(-5*60), "1"), ""},
	}
	cfg := testConfig(t)
	cfg.MarkFrom = t0.Add(-24 * time.Hour) // so that the too_late cases are not too_old
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			out := h.apply(mins(2), tt.e)
			if tt.want == "" {
				if len(out.DeadLetters) != 0 {
					t.Fatalf("dead letter %+v", out.DeadLetters[0])
				}
				return
			}
			if len(out.DeadLetters) != 1 {
				t.Fatalf("output %+v, want one dead letter", out)
			}
			dl := out.DeadLetters[0]
			if dl.Reason != tt.want || dl.Stage != Stage || dl.Seq != 1 || dl.Subject != subjects.Events(0) || !dl.At.Equal(mins(2)) || dl.Message == "" {
				t.Errorf("dead letter %+v, want reason %s", dl, tt.want)
			}
			if want, err := json.Marshal(tt.e); err != nil || !bytes.Equal(dl.OriginalPayload(), want) {
				t.Errorf("payload %s, want the event %s (%v)", dl.OriginalPayload(), want, err)
			}
		})
	}
}
