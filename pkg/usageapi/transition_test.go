package usageapi

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// oneFile serves one usage file UF-1 with a status machine for submit and delete. drop makes the
// next N transitions commit and then drop the connection; fail503 answers the next N with 503.
type oneFile struct {
	t       *testing.T
	mu      sync.Mutex
	status  FileStatus
	gone    bool // deleted files answer 404
	drop    int
	fail503 int
	log     []string
}

// testTransitions maps an action to its from and to statuses.
var testTransitions = map[string][2]FileStatus{
	"/submit": {FileStatusReady, FileStatusPending},
	"/delete": {FileStatusDraft, FileStatusDeleted},
}

func (o *oneFile) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/public/v1/usage/files/UF-1")
	o.log = append(o.log, r.Method+" "+path)
	if r.Method == "GET" && path == "" {
		if o.gone {
			w.WriteHeader(404)
			return
		}
		writeJSON(w, 200, FileDetail{File: File{ID: "UF-1", Status: o.status}})
		return
	}
	from, to := testTransitions[path][0], testTransitions[path][1]
	switch {
	case o.fail503 > 0:
		o.fail503--
		w.WriteHeader(503)
	case o.status != from:
		writeJSON(w, 400, ErrorBody{ErrorCode: "UF_001", Errors: []string{"transition not allowed from " + string(o.status)}})
	default:
		o.status, o.gone = to, to == FileStatusDeleted
		if o.drop > 0 {
			o.drop--
			dropConnection(o.t, w)
			return
		}
		writeJSON(w, 200, FileDetail{File: File{ID: "UF-1", Status: o.status}})
	}
}

func (o *oneFile) calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.log)
}

func newOneFile(t *testing.T, status FileStatus) (*oneFile, *Client) {
	o := &oneFile{t: t, status: status}
	s := newServer(t, o.handle)
	c, _ := s.client(t)
	return o, c
}

func TestSubmitAfterLostAnswerConfirmsByReading(t *testing.T) {
	o, c := newOneFile(t, FileStatusReady)
	o.drop = 1
	f, err := c.SubmitFile(ctxT(t), "UF-1")
	if err != nil || f.Status != FileStatusPending {
		t.Fatalf("SubmitFile = %v, %v", f, err)
	}
	want := []string{"POST /submit", "POST /submit", "GET "}
	if got := o.calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestSubmitRefusedAtFirstAttemptIsAnError(t *testing.T) {
	o, c := newOneFile(t, FileStatusDraft)
	if _, err := c.SubmitFile(ctxT(t), "UF-1"); !IsBadRequest(err) {
		t.Fatalf("err %v, want 400", err)
	}
	if got := o.calls(); len(got) != 1 {
		t.Errorf("calls %q; a first-attempt refusal must not be second-guessed", got)
	}
}

func TestSubmitRetriedAfter503(t *testing.T) {
	o, c := newOneFile(t, FileStatusReady)
	o.fail503 = 2
	if f, err := c.SubmitFile(ctxT(t), "UF-1"); err != nil || f.Status != FileStatusPending {
		t.Fatalf("SubmitFile = %v, %v", f, err)
	}
	if got := o.calls(); len(got) != 3 {
		t.Errorf("calls %q", got)
	}
}

func TestRetriedRefusalNotReachedIsAnError(t *testing.T) {
	// 503 (not applied), then the file is found draft: the refusal is genuine.
	o, c := newOneFile(t, FileStatusDraft)
	o.fail503 = 1
	if _, err := c.SubmitFile(ctxT(t), "UF-1"); !IsBadRequest(err) {
		t.Fatalf("err %v, want the 400", err)
	}
}

func TestDeleteAfterLostAnswerAcceptsNotFound(t *testing.T) {
	o, c := newOneFile(t, FileStatusDraft)
	o.drop = 1
	f, err := c.DeleteFile(ctxT(t), "UF-1")
	if err != nil || f.Status != FileStatusDeleted {
		t.Fatalf("DeleteFile = %v, %v", f, err)
	}
}

func TestCloseRecordAfterLostAnswer(t *testing.T) {
	for _, tt := range []struct {
		name      string
		billingID string
		wantErr   bool
	}{
		{"closed with our billing id", "INV-7", false},
		{"closed with another billing id", "INV-8", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			closed := false
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Method == "GET":
					writeJSON(w, 200, Record{ID: "UR-1", Usage: "1", Status: RecordStatusClosed, ExternalBillingID: tt.billingID})
				case !closed:
					closed = true
					dropConnection(t, w)
				default:
					writeJSON(w, 400, ErrorBody{ErrorCode: "UR_001", Errors: []string{"record is closed"}})
				}
			})
			c, _ := s.client(t)
			_, err := c.CloseRecord(ctxT(t), "UR-1", "INV-7", "billed")
			if (err != nil) != tt.wantErr {
				t.Errorf("err %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDeleteRuleRetryFindsItGone(t *testing.T) {
	var mu sync.Mutex
	n := 0
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 1 {
			dropConnection(t, w)
			return
		}
		w.WriteHeader(404)
	})
	c, _ := s.client(t)
	if err := c.DeleteRule(ctxT(t), "PRD-1", "UIR-1"); err != nil {
		t.Fatal(err)
	}
}
