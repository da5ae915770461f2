package usageapi

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

var workbook = []byte("PK\x03\x04 not really a workbook, but bytes all the same")

// uploadFile serves UF-1 for UploadFile: GET and POST upload. Knobs: drop (commit, then drop
// the connection) and fail503 (refuse without committing) for the next uploads.
type uploadFile struct {
	t        *testing.T
	mu       sync.Mutex
	file     FileDetail
	after    FileStatus // status a committed upload leaves
	drop     int
	fail503  int
	uploads  int
	received [][]byte
}

func (u *uploadFile) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if r.Method == "GET" {
		writeJSON(w, 200, u.file)
		return
	}
	u.uploads++
	u.received = append(u.received, readPart(u.t, r, body, FieldUsageFile))
	if u.fail503 > 0 {
		u.fail503--
		w.WriteHeader(503)
		return
	}
	u.file.Status = u.after
	u.file.Events = &Events{Uploaded: &Event{At: time.Date(2026, 11, 25, 12, 0, u.uploads, 0, time.UTC)}}
	if u.drop > 0 {
		u.drop--
		dropConnection(u.t, w)
		return
	}
	writeJSON(w, 200, u.file)
}

// readPart checks the multipart body and returns the bytes of the file part named field.
func readPart(t *testing.T, r *http.Request, body []byte, field string) []byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var got []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch p.FormName() {
		case field:
			if p.FileName() != "UF-1.xlsx" || p.Header.Get("Content-Type") != XLSXContentType {
				t.Errorf("part %q: filename %q, type %q", field, p.FileName(), p.Header.Get("Content-Type"))
			}
			got = b
		case FieldUploadNote:
			if string(b) != "recon of November" {
				t.Errorf("upload_note %q", b)
			}
		default:
			t.Errorf("unexpected part %q", p.FormName())
		}
	}
	if got == nil {
		t.Errorf("no %q part", field)
	}
	return got
}

func newUploadFile(t *testing.T, before FileDetail, after FileStatus) (*uploadFile, *Client) {
	u := &uploadFile{t: t, file: before, after: after}
	s := newServer(t, u.handle)
	c, _ := s.client(t)
	return u, c
}

func draft() FileDetail { return FileDetail{File: File{ID: "UF-1", Status: FileStatusDraft}} }

func TestUploadSendsTheWorkbook(t *testing.T) {
	u, c := newUploadFile(t, draft(), FileStatusUploading)
	f, err := c.UploadFile(ctxT(t), "UF-1", "UF-1.xlsx", bytes.NewReader(workbook))
	if err != nil || f.Status != FileStatusUploading {
		t.Fatalf("UploadFile = %v, %v", f, err)
	}
	if u.uploads != 1 || !bytes.Equal(u.received[0], workbook) {
		t.Errorf("%d uploads, received %q", u.uploads, u.received)
	}
}

func TestUploadAfterLostAnswerContinuesWhenStatusMovedOn(t *testing.T) {
	u, c := newUploadFile(t, draft(), FileStatusProcessing)
	u.drop = 1
	f, err := c.UploadFile(ctxT(t), "UF-1", "UF-1.xlsx", bytes.NewReader(workbook))
	if err != nil || f.Status != FileStatusProcessing {
		t.Fatalf("UploadFile = %v, %v", f, err)
	}
	if u.uploads != 1 {
		t.Errorf("%d uploads, want 1", u.uploads)
	}
}

func TestReuploadAfterLostAnswerSeesNewUploadTime(t *testing.T) {
	ready := FileDetail{File: File{ID: "UF-1", Status: FileStatusReady,
		Events: &Events{Uploaded: &Event{At: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}}}}
	u, c := newUploadFile(t, ready, FileStatusReady) // processing is instant: ready again
	u.drop = 1
	if _, err := c.UploadFile(ctxT(t), "UF-1", "UF-1.xlsx", bytes.NewReader(workbook)); err != nil {
		t.Fatal(err)
	}
	if u.uploads != 1 {
		t.Errorf("%d uploads, want 1", u.uploads)
	}
}

func TestUploadRetriedWhenItDidNotTakeEffect(t *testing.T) {
	u, c := newUploadFile(t, draft(), FileStatusUploading)
	u.fail503 = 1
	if _, err := c.UploadFile(ctxT(t), "UF-1", "UF-1.xlsx", bytes.NewReader(workbook)); err != nil {
		t.Fatal(err)
	}
	if u.uploads != 2 || !bytes.Equal(u.received[1], workbook) {
		t.Errorf("%d uploads, want 2 with the same bytes", u.uploads)
	}
}

func TestReconciliationUploads(t *testing.T) {
	var got []string
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		got = append(got, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/public/v1"))
		if !bytes.Equal(readPart(t, r, body, FieldReconFile), workbook) {
			t.Error("recon_file bytes differ")
		}
		writeJSON(w, 201, Reconciliation{ID: "RC-1", Status: ReconciliationStatusUploaded})
	})
	c, _ := s.client(t)
	if _, err := c.UploadReconciliation(ctxT(t), "UF-1", "UF-1.xlsx", bytes.NewReader(workbook)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateReconciliation(ctxT(t), "UF-1.xlsx", bytes.NewReader(workbook), "recon of November"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ", ") != "POST /usage/files/UF-1/reconciliation, POST /usage/reconciliations" {
		t.Errorf("requests %q", got)
	}
}
