package pipeline

import (
	"slices"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func acceptedFile(id string, at time.Time) usageapi.File {
	return usageapi.File{ID: id, Status: usageapi.FileStatusAccepted, Events: &usageapi.Events{Accepted: &usageapi.Event{At: at}}}
}

// TestToReadInAcceptanceOrder: the accepted files not read yet come in the order Connect accepted them
// (the list is newest first), never a file in flight; while files are in flight, none that was first seen
// less than readAfter ago.
func TestToReadInAcceptanceOrder(t *testing.T) {
	f := newFollower(nil, nil, 2, newTruth(time.Minute, 10*time.Second))
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	files := []usageapi.File{acceptedFile("UF-3", t0.Add(3*time.Second)), {ID: "UF-4", Status: usageapi.FileStatusPending},
		acceptedFile("UF-1", t0.Add(time.Second)), acceptedFile("UF-2", t0.Add(2*time.Second))}
	ids := func(fs []usageapi.File) []string {
		var out []string
		for _, x := range fs {
			out = append(out, x.ID)
		}
		return out
	}
	if have := ids(f.toRead(files, true)); len(have) != 0 {
		t.Errorf("busy, nothing waited yet: %v", have)
	}
	f.seen["UF-1"], f.seen["UF-2"] = time.Now().Add(-readAfter), time.Now().Add(-readAfter)
	if have := ids(f.toRead(files, true)); !slices.Equal(have, []string{"UF-1", "UF-2"}) {
		t.Errorf("busy: %v, want the files that waited, UF-1 then UF-2", have)
	}
	f.read["UF-1"] = true
	if have := ids(f.toRead(files, false)); !slices.Equal(have, []string{"UF-2", "UF-3"}) {
		t.Errorf("idle: %v, want UF-2 then UF-3", have)
	}
}
