package usageapitest_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// faultKinds are the faults the emulator injects, by spec, that a client gets through by retrying: the
// garbled 2xx answers (empty, null, HTML) among them, served first (commit-…) or not. Redirects are not
// retried: testRedirects.
var faultKinds = []string{"500", "502", "503", "429:1s", "reset", "commit-drop", "latency:20ms",
	"empty", "null", "html", "commit-empty", "commit-null", "commit-html"}

// testFaults injects each fault into the calls the submitter makes and checks that the client gets
// through, with exactly one usage file ever made per external id (find-or-create under commit-then-drop and
// a create served then answered garbled included).
func testFaults(t *testing.T, tg *target) {
	em := tg.needEmulator(t)
	t.Cleanup(em.ClearFaults)
	for _, spec := range faultKinds {
		t.Run(spec, func(t *testing.T) {
			faults, err := connectemu.ParseFaults(spec)
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
				if made := madeWith(em, tg.run+name+"-"+route); len(made) != 1 || made[0] != f.ID {
					t.Fatalf("%s on %s: files %v made with the external id, want exactly %s", spec, route, made, f.ID)
				}
			}
			tg.faultyLifecycle(t, em, name, faults)
			tg.faultyProvider(t, em, name, quick(faults))
		})
	}
	t.Run("commit-drop with list lag", func(t *testing.T) { testDroppedCreateWithListLag(t, tg, em) })
	t.Run("redirects", func(t *testing.T) { testRedirects(t, tg, em) })
}

// madeWith is every file the emulator ever made with the external id, deleted ones included: a duplicate
// made and then deleted counts.
func madeWith(em *connectemu.Emulator, externalID string) (ids []string) {
	for _, f := range em.Files() {
		if f.ExternalID == externalID {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// testRedirects points each call the submitter makes at another server with a redirect, served first or
// not: the client follows none (the other server receives nothing, so never the API key), fails the call
// with ErrRedirected at once, and reports the create's outcome unknown; a lag-aware find-or-create after
// the faults end finds or makes exactly one file.
func testRedirects(t *testing.T, tg *target, em *connectemu.Emulator) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	t.Cleanup(em.ClearFaults)
	for _, kind := range []string{"redirect", "commit-redirect", "307", "commit-308"} {
		spec := kind + ":" + other.URL + "/public/v1/usage/files"
		faults, err := connectemu.ParseFaults(spec)
		if err != nil {
			t.Fatal(err)
		}
		req := tg.createRequest("redirect-" + kind)
		set(t, em, "files.create", faults)
		if _, _, err := tg.vendor.FindOrCreateFile(ctx(t), req); !errors.Is(err, usageapi.ErrRedirected) ||
			!errors.Is(err, usageapi.ErrAmbiguousCreate) {
			t.Fatalf("%s on files.create: %v, want ErrRedirected and ErrAmbiguousCreate", kind, err)
		}
		f, _, err := tg.vendor.FindOrCreateFile(ctx(t), req, usageapi.WaitLag)
		if err != nil {
			t.Fatal(err)
		}
		if made := madeWith(em, req.ExternalID); len(made) != 1 || made[0] != f.ID {
			t.Fatalf("%s: files %v made, want exactly %s", kind, made, f.ID)
		}
		tg.redirectedCalls(t, em, f.ID, kind, faults)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

// redirectedCalls redirects files.get, files.list, files.upload and files.submit in turn: each call fails
// with ErrRedirected; a served upload, and then a served submit, show when the file is read again.
func (tg *target) redirectedCalls(t *testing.T, em *connectemu.Emulator, id, kind string, faults []connectemu.Fault) {
	t.Helper()
	served := faults[0].Served
	redirected := func(route string, call func() error) {
		t.Helper()
		set(t, em, route, faults)
		defer em.ClearFaults()
		if err := call(); !errors.Is(err, usageapi.ErrRedirected) {
			t.Fatalf("%s on %s: %v, want ErrRedirected", kind, route, err)
		}
	}
	redirected("files.get", func() error { _, err := tg.vendor.GetFile(ctx(t), id); return err })
	redirected("files.list", func() error { _, err := tg.vendor.FindFiles(ctx(t), "x"); return err })
	redirected("files.upload", func() error {
		_, err := tg.vendor.UploadFile(ctx(t), id, "f.xlsx", bytes.NewReader(tg.validWorkbook(t, "redirect-"+kind, 1)))
		return err
	})
	want := map[bool]usageapi.FileStatus{false: usageapi.FileStatusDraft, true: usageapi.FileStatusReady}[served]
	wantStatus(t, tg.waitFile(t, id, usageapi.ProcessingDone), want)
	redirected("files.submit", func() error { _, err := tg.vendor.SubmitFile(ctx(t), id); return err })
	if served {
		want = usageapi.FileStatusPending
	}
	wantStatus(t, tg.waitFile(t, id, usageapi.ProcessingDone), want)
}

// testDroppedCreateWithListLag: the create happens but its answer is lost, and lists miss the new file
// for a while: find-or-create still ends with exactly one file.
func testDroppedCreateWithListLag(t *testing.T, tg *target, em *connectemu.Emulator) {
	faults, err := connectemu.ParseFaults("commit-drop,list-lag:2")
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
func checkFaultShows(t *testing.T, tg *target, em *connectemu.Emulator, faults []connectemu.Fault) {
	t.Helper()
	once, err := usageapi.New(tg.baseURL, vendorKey, usageapi.WithRetry(usageapi.NoRetry))
	if err != nil {
		t.Fatal(err)
	}
	forever := faults[0]
	forever.Times = -1
	set(t, em, "files.list", []connectemu.Fault{forever})
	_, err = once.Files(usageapi.Eq("external_id", "none")).Collect(ctx(t))
	if wantErr := faults[0].Kind != connectemu.FaultLatency; (err != nil) != wantErr {
		t.Fatalf("one try under %+v: err %v, want an error: %v", faults[0], err, wantErr)
	}
	em.ClearFaults()
}

// faultyLifecycle uploads and submits the file with the fault on every call the vendor makes.
func (tg *target) faultyLifecycle(t *testing.T, em *connectemu.Emulator, name string, faults []connectemu.Fault) {
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

// providerRoutes are the provider's calls: the PUTs, accept, the record and chunk closes and file close.
var providerRoutes = []string{"records.update", "files.approve-all", "files.accept", "chunks.list", "chunks.update",
	"records.close", "records.close-records", "chunks.close", "files.close", "records.list"}

// faultyProvider has the provider approve, accept, label a chunk and close records and files with the
// fault on each of those calls: every call gets through, and each object ends where one clean call would
// have left it (a repeat applied twice would be refused, a lost one would leave it open).
func (tg *target) faultyProvider(t *testing.T, em *connectemu.Emulator, name string, faults []connectemu.Fault) {
	t.Helper()
	provider, c := tg.needProvider(t), ctx(t)
	f := tg.readyFile(t, name+"-provider", 3)
	g := tg.readyFile(t, name+"-chunk", 1)
	for _, id := range []string{f.ID, g.ID} {
		if _, err := tg.vendor.SubmitFile(c, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, route := range providerRoutes {
		set(t, em, route, faults)
	}
	defer em.ClearFaults()
	recs := tg.recordsOf(t, provider, f.ID)
	must(t, "UpdateRecordStatus", func() error {
		_, err := provider.UpdateRecordStatus(c, recs[0].ID, usageapi.RecordStatusApproved)
		return err
	})
	must(t, "ApproveAllRecords", func() error { _, err := provider.ApproveAllRecords(c, f.ID); return err })
	for _, id := range []string{f.ID, g.ID} {
		must(t, "AcceptFile", func() error { _, err := provider.AcceptFile(c, id, "ok"); return err })
	}
	tg.closeUnderFaults(t, provider, f.ID, recs)
	chunk := tg.readyChunks(t, g.ID)[0]
	must(t, "UpdateChunk", func() error { _, err := provider.UpdateChunk(c, chunk.ID, "EXT-"+chunk.ID); return err })
	must(t, "CloseChunk", func() error {
		_, err := provider.CloseChunk(c, chunk.ID, usageapi.CloseChunkRequest{ExternalBillingID: "BATCH-" + name})
		return err
	})
	wantStatus(t, tg.waitFile(t, g.ID, func(s usageapi.FileStatus) bool { return s == usageapi.FileStatusClosed }), usageapi.FileStatusClosed)
}

// closeUnderFaults closes one record alone, the others in bulk, then the file.
func (tg *target) closeUnderFaults(t *testing.T, provider *usageapi.Client, fileID string, recs []usageapi.Record) {
	c := ctx(t)
	must(t, "CloseRecord", func() error { _, err := provider.CloseRecord(c, recs[0].ID, "B-0", "one"); return err })
	var bulk []usageapi.CloseRecordRequest
	for _, r := range recs[1:] {
		bulk = append(bulk, usageapi.CloseRecordRequest{ID: r.ID, ExternalBillingID: "B-" + r.ID})
	}
	must(t, "CloseRecords", func() error {
		res, err := provider.CloseRecords(c, bulk)
		for _, r := range res {
			if r.Status != usageapi.RecordStatusClosed {
				return fmt.Errorf("record %s: %+v", r.ID, r)
			}
		}
		return err
	})
	must(t, "CloseFile", func() error { _, err := provider.CloseFile(c, fileID); return err })
	for _, r := range tg.recordsOf(t, provider, fileID) {
		if r.Status != usageapi.RecordStatusClosed || r.ExternalBillingID == "" {
			t.Fatalf("record %s after the closes: %s %q", r.ID, r.Status, r.ExternalBillingID)
		}
	}
}

func must(t *testing.T, what string, call func() error) {
	t.Helper()
	if err := call(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// quick is faults with 429s asking no wait, so many routes can be throttled without slowing the suite.
func quick(faults []connectemu.Fault) []connectemu.Fault {
	out := slices.Clone(faults)
	for i := range out {
		if out[i].Kind == connectemu.FaultThrottle {
			out[i].Delay = 0
		}
	}
	return out
}

func set(t *testing.T, em *connectemu.Emulator, route string, faults []connectemu.Fault) {
	t.Helper()
	if err := em.SetFaults(route, faults...); err != nil {
		t.Fatal(fmt.Errorf("SetFaults(%s): %w", route, err))
	}
}
