package usageapitest_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

// faultKinds are the faults the emulator injects, by spec.
var faultKinds = []string{"500", "502", "503", "429:1s", "reset", "commit-drop", "latency:20ms"}

// testFaults injects each fault into the calls the submitter makes and checks that the client gets
// through, with exactly one usage file per external id (find-or-create under commit-then-drop included).
func testFaults(t *testing.T, tg *target) {
	em := tg.needEmulator(t)
	t.Cleanup(em.ClearFaults)
	for _, spec := range faultKinds {
		t.Run(spec, func(t *testing.T) {
			faults, err := usageapitest.ParseFaults(spec)
			if err != nil {
				t.Fatal(err)
			}
			name := "fault-" + spec
			checkFaultShows(t, tg, em, faults)
			for _, route := range []string{"files.list", "files.create"} {
				set(t, em, route, faults)
				f, _, err := tg.vendor.FindOrCreateFile(ctx(t), tg.createRequest(name+"-"+route))
				if err != nil {
					t.Fatalf("FindOrCreateFile with %s on %s: %v", spec, route, err)
				}
				if live := tg.filesWithExternalID(t, tg.run+name+"-"+route); len(live) != 1 || live[0].ID != f.ID {
					t.Fatalf("%s on %s: %d live files with the external id, want exactly %s", spec, route, len(live), f.ID)
				}
			}
			tg.faultyLifecycle(t, em, name, faults)
		})
	}
	t.Run("commit-drop with list lag", func(t *testing.T) { testDroppedCreateWithListLag(t, tg, em) })
}

// testDroppedCreateWithListLag: the create happens but its answer is lost, and lists miss the new file
// for a while: find-or-create still ends with exactly one file.
func testDroppedCreateWithListLag(t *testing.T, tg *target, em *usageapitest.Emulator) {
	faults, err := usageapitest.ParseFaults("commit-drop,list-lag:2")
	if err != nil {
		t.Fatal(err)
	}
	set(t, em, "files.create", faults)
	f, created, err := tg.vendor.FindOrCreateFile(ctx(t), tg.createRequest("lagging"))
	if err != nil || !created {
		t.Fatalf("FindOrCreateFile: created %v, %v", created, err)
	}
	if live := tg.filesWithExternalID(t, tg.run+"lagging"); len(live) != 1 || live[0].ID != f.ID {
		t.Fatalf("%d live files with the external id, want exactly %s", len(live), f.ID)
	}
}

// checkFaultShows proves the fault is really injected: a client that does not retry sees it (a latency
// fault only delays the answer). The fault is made permanent for this check, because Go's transport
// itself replays a GET once when a reused connection is dropped.
func checkFaultShows(t *testing.T, tg *target, em *usageapitest.Emulator, faults []usageapitest.Fault) {
	t.Helper()
	once, err := usageapi.New(tg.baseURL, vendorKey, usageapi.WithRetry(usageapi.NoRetry))
	if err != nil {
		t.Fatal(err)
	}
	forever := faults[0]
	forever.Times = -1
	set(t, em, "files.list", []usageapitest.Fault{forever})
	_, err = once.Files(usageapi.Eq("external_id", "none")).Collect(ctx(t))
	if wantErr := faults[0].Kind != usageapitest.FaultLatency; (err != nil) != wantErr {
		t.Fatalf("one try under %+v: err %v, want an error: %v", faults[0], err, wantErr)
	}
	em.ClearFaults()
}

// faultyLifecycle uploads and submits the file with the fault on every call the vendor makes.
func (tg *target) faultyLifecycle(t *testing.T, em *usageapitest.Emulator, name string, faults []usageapitest.Fault) {
	t.Helper()
	f, _, err := tg.vendor.FindOrCreateFile(ctx(t), tg.createRequest(name))
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range []string{"files.get", "files.upload"} {
		set(t, em, route, faults)
	}
	if _, err := tg.vendor.UploadFile(ctx(t), f.ID, "f.xlsx", bytes.NewReader(tg.validWorkbook(t, name, 2))); err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	wantStatus(t, tg.waitFile(t, f.ID, usageapi.ProcessingDone), usageapi.FileStatusReady)
	set(t, em, "files.submit", faults)
	set(t, em, "records.list", faults)
	if f, err = tg.vendor.SubmitFile(ctx(t), f.ID); err != nil {
		t.Fatalf("SubmitFile: %v", err)
	}
	wantStatus(t, f, usageapi.FileStatusPending)
	if n := len(tg.recordsOf(t, tg.vendor, f.ID)); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	em.ClearFaults()
}

func set(t *testing.T, em *usageapitest.Emulator, route string, faults []usageapitest.Fault) {
	t.Helper()
	if err := em.SetFaults(route, faults...); err != nil {
		t.Fatal(fmt.Errorf("SetFaults(%s): %w", route, err))
	}
}
