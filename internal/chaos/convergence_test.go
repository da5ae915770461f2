package chaos

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func TestSupplementsPerPeriodCountLiveSupplementaryFiles(t *testing.T) {
	p1 := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	p2 := p1.Add(4 * time.Second)
	file := func(id string, start time.Time, rev, part int, st usageapi.FileStatus) usageapi.File {
		x := ledger.FileID{Product: "PRD-900-000-001", Contract: "CRD-00000-00900-00001", PeriodStart: start, Revision: rev, Part: part}
		return usageapi.File{ID: id, ExternalID: x.ExternalID(), Status: st}
	}
	files := []usageapi.File{
		file("UF-1", p1, 0, 1, usageapi.FileStatusAccepted),
		file("UF-2", p1, 1, 1, usageapi.FileStatusAccepted),
		file("UF-3", p1, 2, 1, usageapi.FileStatusAccepted),
		file("UF-4", p1, 2, 2, usageapi.FileStatusAccepted),
		file("UF-5", p1, 3, 1, usageapi.FileStatusDeleted), // not live
		file("UF-6", p2, 0, 1, usageapi.FileStatusAccepted),
		{ID: "UF-7", ExternalID: "not ours", Status: usageapi.FileStatusAccepted},
	}
	ps := supplementsPerPeriod(files)
	if len(ps) != 2 || ps[0].files != 3 || !ps[0].start.Equal(p1) || ps[1].files != 0 {
		t.Fatalf("per period: %+v", ps)
	}
	if s := spreadOf(ps, ""); s != (fileSpread{n: 2, p50: 3, max: 3}) {
		t.Errorf("spread %+v, want 2 periods, p50 3, max 3", s)
	}
	if s := spreadOf(ps, "PRD-other"); s != (fileSpread{}) {
		t.Errorf("spread of a product without files: %+v", s)
	}
}

func TestConvergenceNeedsASettledRightSum(t *testing.T) {
	sent := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	right := sent.Add(83 * time.Second)
	for _, c := range []struct {
		name string
		v    verdict
		want time.Duration
	}{
		{"settled, right since", verdict{settled: true, compared: true, correctSince: right}, 83 * time.Second},
		{"not settled", verdict{compared: true, correctSince: right}, -1},
		{"settled, never right", verdict{settled: true, compared: true}, -1},
	} {
		var r Result
		r.setConvergence(sent, c.v)
		if r.Converged != c.want {
			t.Errorf("%s: converged %v, want %v", c.name, r.Converged, c.want)
		}
	}
}

func TestNoteSumsKeepsTheStartOfTheLastRightStretch(t *testing.T) {
	t0 := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	p := &pollState{}
	wrong := verdict{compared: true, unmapped: []string{"x"}}
	for i, v := range []verdict{{compared: true}, wrong, {compared: true}, {compared: true}} {
		p.last = v
		p.noteSums(t0.Add(time.Duration(i) * time.Second))
	}
	if want := t0.Add(2 * time.Second); !p.correctSince.Equal(want) || !p.last.correctSince.Equal(want) {
		t.Errorf("right since %v (verdict %v), want %v", p.correctSince, p.last.correctSince, want)
	}
}
