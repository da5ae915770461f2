package usageapi_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// These tests put the emulator's garbled answers (empty, null and HTML 200s, redirects), served first or
// not, on the create, upload and submit of a file, and count what reached the emulator: every operation
// takes effect exactly once, and the client ends knowing the file's true state.

// countingEmulator is the emulator behind a handler that counts the requests of each "METHOD path".
type countingEmulator struct {
	*connectemu.Emulator
	mu     sync.Mutex
	counts map[string]int
}

func newCountingEmulator(t *testing.T) (*countingEmulator, *usageapi.Client) {
	t.Helper()
	ce := &countingEmulator{Emulator: connectemu.New(connectemu.Options{}), counts: map[string]int{}}
	h := ce.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ce.mu.Lock()
		ce.counts[r.Method+" "+r.URL.Path]++
		ce.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); _ = ce.Close() })
	c, err := usageapi.New(srv.URL+"/public/v1", "SU-000-000-000:garbled", usageapi.WithClock(&instantClock{now: time.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	return ce, c
}

func (ce *countingEmulator) count(method, path string) int {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	return ce.counts[method+" /public/v1"+path]
}

func (ce *countingEmulator) fault(t *testing.T, route, spec string) {
	t.Helper()
	f, err := connectemu.ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := ce.SetFaults(route, f...); err != nil {
		t.Fatal(err)
	}
}

// createdWith is every file the emulator ever made with the external id, deleted ones included.
func createdWith(em *connectemu.Emulator, ext string) (ids []string) {
	for _, f := range em.Files() {
		if f.ExternalID == ext {
			ids = append(ids, f.ID+" "+string(f.Status))
		}
	}
	return ids
}

var garbledSpecs = []string{"empty", "null", "html", "commit-empty", "commit-null", "commit-html"}

// TestGarbledCreateMakesOneFile: FindOrCreateFile under a garbled create answer ends with the one file, made
// by one create when the request was served, and reports it created.
func TestGarbledCreateMakesOneFile(t *testing.T) {
	for _, spec := range garbledSpecs {
		t.Run(spec, func(t *testing.T) {
			ce, c := newCountingEmulator(t)
			ce.fault(t, "files.create", spec)
			req := lagRequest("usagepipe:garbled-create")
			f, created, err := c.FindOrCreateFile(t.Context(), req)
			if err != nil || !created || f.Status != usageapi.FileStatusDraft {
				t.Fatalf("FindOrCreateFile: %+v, created %v, %v", f, created, err)
			}
			all := createdWith(ce.Emulator, req.ExternalID)
			creates := ce.count("POST", "/usage/files")
			if len(all) != 1 || !strings.HasPrefix(all[0], f.ID+" ") {
				t.Errorf("files made %v, want exactly %s", all, f.ID)
			}
			if served := strings.HasPrefix(spec, "commit-"); served && creates != 1 || !served && creates != 2 {
				t.Errorf("%d creates sent, want 1 when the first was served, else 2", creates)
			}
		})
	}
}

// TestGarbledUploadUploadsOnce: an upload answered garbled after it was served is recognised by reading
// the file, not sent again; one not served is sent again.
func TestGarbledUploadUploadsOnce(t *testing.T) {
	for _, spec := range garbledSpecs {
		t.Run(spec, func(t *testing.T) {
			ce, c := newCountingEmulator(t)
			f, _, err := c.FindOrCreateFile(t.Context(), lagRequest("usagepipe:garbled-upload"))
			if err != nil {
				t.Fatal(err)
			}
			ce.fault(t, "files.upload", spec)
			got, err := c.UploadFile(t.Context(), f.ID, "f.xlsx", bytes.NewReader(oneRecordWorkbook(t)))
			if err != nil || got.Status == usageapi.FileStatusDraft || !got.Status.Known() {
				t.Fatalf("UploadFile: %+v, %v; want the file past draft", got, err)
			}
			uploads := ce.count("POST", "/usage/files/"+f.ID+"/upload")
			if served := strings.HasPrefix(spec, "commit-"); served && uploads != 1 || !served && uploads != 2 {
				t.Errorf("%d uploads sent, want 1 when the first was served, else 2", uploads)
			}
			if err := ce.WaitStatus(t.Context(), f.ID, usageapi.FileStatusReady); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGarbledSubmitSubmitsOnce: a submit answered garbled is retried; once the file is pending the retry
// is refused, and the client reads the file back and reports it pending.
func TestGarbledSubmitSubmitsOnce(t *testing.T) {
	for _, spec := range garbledSpecs {
		t.Run(spec, func(t *testing.T) {
			ce, c := newCountingEmulator(t)
			f := readyFile(t, ce, c, "usagepipe:garbled-submit")
			ce.fault(t, "files.submit", spec)
			got, err := c.SubmitFile(t.Context(), f.ID)
			if err != nil || got.ID != f.ID || got.Status != usageapi.FileStatusPending {
				t.Fatalf("SubmitFile: %+v, %v; want %s pending", got, err, f.ID)
			}
			if n := ce.count("POST", "/usage/files/"+f.ID+"/submit"); n != 2 {
				t.Errorf("%d submits sent, want 2 (the garbled one, then its retry)", n)
			}
		})
	}
}

// TestRedirectedCallsAreUnknownOutcomes: a redirect served first or not fails the call without following
// it; a create's outcome is unknown, and the lag-aware find-or-create after it ends with one file.
func TestRedirectedCallsAreUnknownOutcomes(t *testing.T) {
	for _, spec := range []string{"redirect", "commit-redirect", "307", "commit-308"} {
		t.Run(spec, func(t *testing.T) {
			ce, c := newCountingEmulator(t)
			ce.fault(t, "files.create", spec)
			req := lagRequest("usagepipe:redirected")
			_, _, err := c.FindOrCreateFile(t.Context(), req)
			if !errors.Is(err, usageapi.ErrRedirected) || !errors.Is(err, usageapi.ErrAmbiguousCreate) {
				t.Fatalf("redirected create: %v, want ErrRedirected and ErrAmbiguousCreate", err)
			}
			f, _, err := c.FindOrCreateFile(t.Context(), req, usageapi.WaitLag)
			if err != nil {
				t.Fatal(err)
			}
			if all := createdWith(ce.Emulator, req.ExternalID); len(all) != 1 || !strings.HasPrefix(all[0], f.ID+" ") {
				t.Errorf("files made %v, want exactly %s", all, f.ID)
			}
			ce.fault(t, "files.upload", spec)
			_, err = c.UploadFile(t.Context(), f.ID, "f.xlsx", bytes.NewReader(oneRecordWorkbook(t)))
			if !errors.Is(err, usageapi.ErrRedirected) || ce.count("POST", "/usage/files/"+f.ID+"/upload") != 1 {
				t.Errorf("redirected upload: %v after %d uploads, want ErrRedirected after 1", err, ce.count("POST", "/usage/files/"+f.ID+"/upload"))
			}
		})
	}
}

// readyFile creates a file and uploads a valid workbook; it returns the file once ready.
func readyFile(t *testing.T, ce *countingEmulator, c *usageapi.Client, ext string) *usageapi.FileDetail {
	t.Helper()
	f, _, err := c.FindOrCreateFile(t.Context(), lagRequest(ext))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadFile(t.Context(), f.ID, "f.xlsx", bytes.NewReader(oneRecordWorkbook(t))); err != nil {
		t.Fatal(err)
	}
	if err := ce.WaitStatus(t.Context(), f.ID, usageapi.FileStatusReady); err != nil {
		t.Fatal(err)
	}
	return f
}

// oneRecordWorkbook is a valid workbook of lagRequest's period: one record of the sample catalog.
func oneRecordWorkbook(t *testing.T) []byte {
	t.Helper()
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	rec := usagefile.Record{RecordID: "garbled-1", ItemSearchCriteria: usagefile.ItemByMPN, ItemSearchValue: "CPU_HOURS",
		Quantity: events.MustDecimal("1.5"), StartTimeUTC: start, EndTimeUTC: start.Add(24*time.Hour - time.Second),
		AssetSearchCriteria: usagefile.AssetByID, AssetSearchValue: "AS-0000-0000-0001", Precision: events.PrecisionDecimal4}
	var buf bytes.Buffer
	err := usagefile.Write(&buf, usagefile.WriteOptions{Schema: events.SchemaQT}, func(yield func(usagefile.Record) bool) { yield(rec) })
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
