package connectemu

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// reopen serves an emulator opened from path; the previous one must be closed.
func reopen(t *testing.T, path string, delay time.Duration) *testServer {
	t.Helper()
	em, err := Open(Options{StatePath: path, APIKeys: []string{testKey}, ProcessingDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(func() { srv.Close(); _ = em.Close() })
	return &testServer{Emulator: em, srv: srv}
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := reopen(t, path, 0)
	id := s.createFile(t, "persisted")
	s.upload(t, id, 2)
	decode[usageapi.FileDetail](t, s.json(t, "POST", "/public/v1/usage/files/"+id+"/submit", map[string]any{}), 200)
	s.srv.Close()
	_ = s.Close()

	s = reopen(t, path, 0)
	f := decode[usageapi.FileDetail](t, s.do(t, "GET", "/public/v1/usage/files/"+id, "", nil), 200)
	if f.Status != usageapi.FileStatusPending || f.ExternalID != "persisted" || len(s.Records(id)) != 2 {
		t.Fatalf("after restart: %s %q with %d records", f.Status, f.ExternalID, len(s.Records(id)))
	}
	resp, err := http.Get(f.ProcessedFileURI)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a link signed before the restart: %v %v", resp, err)
	}
	resp.Body.Close()
	if id2 := s.createFile(t, "second"); id2 == id {
		t.Fatal("id reused after restart")
	}
}

func TestProcessingResumesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := reopen(t, path, time.Hour)
	id := s.createFile(t, "interrupted")
	body, ctype := multipartBody(t, "usage_file", sampleWorkbook(t, 3))
	decode[usageapi.FileDetail](t, s.do(t, "POST", "/public/v1/usage/files/"+id+"/upload", ctype, body), 200)
	if err := s.wait(t.Context(), func() bool { return s.st.fileByID[id].Status == usageapi.FileStatusProcessing }); err != nil {
		t.Fatal(err)
	}
	s.srv.Close()
	_ = s.Close()

	s = reopen(t, path, 0)
	if err := s.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.File(id); f.Status != usageapi.FileStatusReady || len(s.Records(id)) != 3 {
		t.Fatalf("after restart: %s with %d records", f.Status, len(s.Records(id)))
	}
}

// Changes answered at the same time share state writes; each is on disk when it is answered.
func TestConcurrentChangesAreDurableWhenAnswered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := reopen(t, path, time.Hour)
	workbook := sampleWorkbook(t, 2)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			if err := s.createAndUpload(fmt.Sprintf("c%d", i), workbook); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st, err := loadStore(path) // the file as it is now, the emulator still running
	if err != nil {
		t.Fatal(err)
	}
	if len(st.files) != 12 {
		t.Fatalf("%d files on disk, want 12", len(st.files))
	}
	for _, f := range st.files {
		if f.Upload == "" || f.Generation != 1 || st.blobs[f.Upload] == nil {
			t.Errorf("file %s on disk: status %s, generation %d, upload %q", f.ExternalID, f.Status, f.Generation, f.Upload)
		}
	}
}

func TestOpenRejectsABrokenState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{StatePath: path}); err == nil {
		t.Fatal("Open accepted a broken state file")
	}
}
