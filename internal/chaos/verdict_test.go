package chaos

import (
	"context"
	"testing"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

func TestOKNeedsASettledComparison(t *testing.T) {
	cases := []struct {
		name string
		v    verdict
		want bool
	}{
		{"never compared", verdict{}, false},
		{"compared, not settled", verdict{compared: true}, false},
		{"settled on a comparison", verdict{settled: true, compared: true}, true},
		{"settled flag without a comparison", verdict{settled: true}, false},
		{"settled but a key differs", verdict{settled: true, compared: true, diffs: []reconcile.Difference{
			{Key: reconcile.Key{Product: "PRD-1"}, Want: reconcile.Value{Quantity: events.DecimalFromInt(1), Records: 1}}}}, false},
	}
	for _, c := range cases {
		var res Result
		res.setVerdict(c.v)
		if have := res.OK(); have != c.want {
			t.Errorf("%s: OK() = %t, want %t (%s)", c.name, have, c.want, res.Line())
		}
	}
}

// TestAFailedReadKeepsThePreviousVerdict lists files from a real emulator whose record listing fails:
// neither a poll nor the final read may replace what an earlier comparison found.
func TestAFailedReadKeepsThePreviousVerdict(t *testing.T) {
	emu := usageapitest.NewServer(t, connectemu.Options{}, usageapi.WithRetry(usageapi.RetryPolicy{MaxAttempts: 1}))
	fault := connectemu.Fault{Kind: connectemu.FaultStatus, Status: 503, Times: -1}
	if err := emu.SetFaults("records.list", fault); err != nil {
		t.Fatal(err)
	}
	v := &verifier{client: emu.Client, cat: &events.Catalog{Products: []events.Product{{ID: "PRD-1"}}},
		logf: t.Logf, ledger: func(context.Context) (*reconcile.Ledger, error) {
			t.Error("the ledger was read although the records were not")
			return nil, nil
		}}
	lost := []reconcile.Difference{{Key: reconcile.Key{Product: "PRD-1", Asset: "AS-1"},
		Want: reconcile.Value{Quantity: events.DecimalFromInt(1), Records: 1}}}
	p := &pollState{lastFiles: -1, last: verdict{compared: true, diffs: lost}}
	if v.poll(t.Context(), p) {
		t.Fatal("poll settled although the records could not be read")
	}
	if !p.last.compared || len(p.last.diffs) != 1 {
		t.Fatalf("a failed compare replaced the verdict: %+v", p.last)
	}
	var res Result
	res.setVerdict(v.final(p.last))
	if res.Lost != 1 || res.OK() {
		t.Errorf("final read that fails: %s", res.Line())
	}
	res = Result{}
	res.setVerdict(v.final(verdict{}))
	if res.Compared || res.OK() {
		t.Errorf("nothing was ever read, yet %s (compared %t)", res.Line(), res.Compared)
	}
}
