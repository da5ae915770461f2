package submitter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// TestOrphanDraftIsDeletedAndOthersReported: next to the file its ledger entry drives, a second draft with
// the same external id (made here through the client, as a list lagging behind a create could make it), and
// a draft whose external id no entry has. The sweep deletes the first, reports the second, and leaves the
// ledger's file alone.
func TestOrphanDraftIsDeletedAndOthersReported(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("ORPH", 2)
	env.seedAssets(subs...)
	o := env.options()
	o.OrphanInterval = time.Second
	var logs logBuffer
	o.Logger = logs.logger()
	env.start(o)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	env.closePeriod(period(1), subs)
	kept := env.waitState(id, 30*time.Second, ledger.StateAccepted)

	client, err := usageapi.New(env.connectURL(), testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	create := func(externalID string) string {
		f, err := client.CreateFile(ctx, usageapi.CreateFileRequest{Name: "by hand", Currency: "USD",
			Product: &usageapi.IDRef{ID: testProduct}, Contract: &usageapi.IDRef{ID: testContract}, ExternalID: externalID})
		if err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	orphan := create(id.ExternalID())
	stranger := create(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(9).Start, Part: 1}.ExternalID())
	waitFor(t, 30*time.Second, "the orphan deleted", func() bool {
		f, _ := env.emu.File(orphan)
		return f.Status == usageapi.FileStatusDeleted
	})
	if f, _ := env.emu.File(kept.FileID); f.Status != usageapi.FileStatusAccepted {
		t.Errorf("the ledger's file is %s", f.Status)
	}
	if f, _ := env.emu.File(stranger); f.Status != usageapi.FileStatusDraft {
		t.Errorf("a file no entry knows is %s, want it left a draft", f.Status)
	}
	waitFor(t, 30*time.Second, "the stranger reported", func() bool {
		return strings.Contains(logs.String(), "file_id="+stranger)
	})
	if _, twice := createdOnce(env); len(twice) != 1 || !strings.Contains(twice[0], orphan) {
		t.Errorf("createdOnce sees %v, want the deleted orphan next to the kept file", twice)
	}
}
