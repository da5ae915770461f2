package pipeline

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// stagedFile is an accepted file of revision rev for the period starting at start, whose events come at the
// given offsets from close.
func stagedFile(start, closeAt time.Time, rev int, offsets ...time.Duration) usageapi.File {
	id := ledger.FileID{Product: "PRD-700-000-001", Contract: "CRD-00000-00700-00001", PeriodStart: start, Revision: rev, Part: 1}
	at := func(i int) *usageapi.Event { return &usageapi.Event{At: closeAt.Add(offsets[i])} }
	return usageapi.File{ID: "UF-1", ExternalID: id.ExternalID(), Status: usageapi.FileStatusAccepted,
		Events: &usageapi.Events{Created: at(0), Uploaded: at(1), Submitted: at(2), Accepted: at(3)}}
}

// TestFileStagesCountFromThePeriodsClose: a base file's stages are its events' times since its period's end
// plus the lateness; a supplement, or a file without every event, has none.
func TestFileStagesCountFromThePeriodsClose(t *testing.T) {
	tr := newTruth(time.Minute, 10*time.Second)
	start := time.Date(2026, 12, 8, 1, 2, 0, 0, time.UTC)
	closeAt := start.Add(70 * time.Second)
	s, ok := stagesOf(stagedFile(start, closeAt, 0, 600*time.Millisecond, 3*time.Second, 4500*time.Millisecond, 4600*time.Millisecond), tr)
	want := fileStages{period: start.Unix(), created: 600 * time.Millisecond, uploaded: 3 * time.Second,
		submitted: 4500 * time.Millisecond, accepted: 4600 * time.Millisecond}
	if !ok || s != want {
		t.Errorf("have %+v %v, want %+v", s, ok, want)
	}
	if _, ok := stagesOf(stagedFile(start, closeAt, 1, 0, 1, 2, 3), tr); ok {
		t.Error("a supplement has base-file stages")
	}
	noSubmit := stagedFile(start, closeAt, 0, 0, 1, 2, 3)
	noSubmit.Events.Submitted = nil
	if _, ok := stagesOf(noSubmit, tr); ok {
		t.Error("a file without its submitted event has stages")
	}
}

// TestStagesLineSummarisesTheSoaksPeriods: only files of periods in [from, to] count; each stage shows its
// median and maximum.
func TestStagesLineSummarisesTheSoaksPeriods(t *testing.T) {
	s := func(period int64, secs ...float64) fileStages {
		d := func(i int) time.Duration { return time.Duration(secs[i] * float64(time.Second)) }
		return fileStages{period: period, created: d(0), uploaded: d(1), submitted: d(2), accepted: d(3)}
	}
	all := []fileStages{s(60, 9, 9, 9, 9), s(120, 0.5, 2, 3, 3.1), s(180, 1.5, 4, 6, 6.2), s(240, 0.6, 2.5, 4, 4.1), s(300, 9, 9, 9, 9)}
	want := "stages of the soak's 3 base files, since their period's close (median / max): " +
		"created 0.6 / 1.5 s, uploaded 2.5 / 4.0 s, submitted 4.0 / 6.0 s, accepted 4.1 / 6.2 s"
	if have := stagesLine(all, 120, 240); have != want {
		t.Errorf("have %q\nwant %q", have, want)
	}
	if have := stagesLine(all, 400, 500); have != "stages of the soak's base files: none accepted" {
		t.Errorf("no files: %q", have)
	}
}
