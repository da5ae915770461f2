package usageapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fileStore is a test double of the usage files endpoints that FindOrCreateFile and the
// transitions use: list by external_id, create, get, delete. Its knobs inject the failures.
type fileStore struct {
	t          *testing.T
	mu         sync.Mutex
	files      []*FileDetail
	dropCreate int                // commit the next N creates, then drop the connection
	failCreate int                // answer the next N creates 503 without committing
	lagLists   int                // a created file is missing from the next N lists (list lag)
	hidden     map[string]int     // file id → lists it is still missing from
	noFilter   bool               // lists ignore the external_id filter, like a server that drops it
	onCreate   func(s *fileStore) // runs after a create commits, under the lock
	log        []string
}

func (s *fileStore) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/public/v1")
	s.log = append(s.log, r.Method+" "+path)
	switch {
	case r.Method == "GET" && path == "/usage/files":
		s.list(w, r)
	case r.Method == "POST" && path == "/usage/files":
		s.create(w, body)
	case r.Method == "GET" && strings.HasPrefix(path, "/usage/files/"):
		if f := s.find(strings.TrimPrefix(path, "/usage/files/")); f != nil {
			writeJSON(w, 200, f)
			return
		}
		writeJSON(w, 404, ErrorBody{ErrorCode: "NOT_FOUND", Errors: []string{"no such file"}})
	case r.Method == "POST" && strings.HasSuffix(path, "/delete"):
		f := s.find(strings.TrimSuffix(strings.TrimPrefix(path, "/usage/files/"), "/delete"))
		f.Status = FileStatusDeleted
		writeJSON(w, 200, f)
	default:
		s.t.Errorf("unexpected %s %s", r.Method, path)
		w.WriteHeader(500)
	}
}

func (s *fileStore) list(w http.ResponseWriter, r *http.Request) {
	q, _ := url.PathUnescape(r.URL.RawQuery)
	ext, ok := strings.CutPrefix(q, "eq(external_id,")
	ext, _, ok2 := strings.Cut(ext, ")&ordering(created.at,id)&limit=")
	if !ok || !ok2 {
		s.t.Errorf("list query %q is not by external_id", q)
	}
	page := []File{}
	for _, f := range s.files {
		if s.hidden[f.ID] > 0 {
			s.hidden[f.ID]--
			continue
		}
		if s.noFilter || f.ExternalID == strings.Trim(ext, `"`) {
			page = append(page, f.File)
		}
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	total := len(page)
	page = page[:min(limit, total)]
	w.Header().Set("Content-Range", PageRange(0, len(page), total).String())
	writeJSON(w, 200, page)
}

func (s *fileStore) create(w http.ResponseWriter, body []byte) {
	if s.failCreate > 0 {
		s.failCreate--
		w.WriteHeader(503)
		return
	}
	var req CreateFileRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.t.Error(err)
	}
	f := s.add(req.ExternalID, time.Date(2026, 11, 25, 12, 0, len(s.files), 0, time.UTC))
	if s.lagLists > 0 {
		if s.hidden == nil {
			s.hidden = map[string]int{}
		}
		s.hidden[f.ID] = s.lagLists
	}
	if s.onCreate != nil {
		s.onCreate(s)
	}
	if s.dropCreate > 0 {
		s.dropCreate--
		dropConnection(s.t, w)
		return
	}
	writeJSON(w, 201, FileCreated{ID: f.ID, ExternalID: f.ExternalID, Status: FileStatusDraft})
}

func (s *fileStore) add(ext string, at time.Time) *FileDetail {
	f := &FileDetail{File: File{ID: fmt.Sprintf("UF-2026-11-0000-%04d", len(s.files)+1), ExternalID: ext,
		Status: FileStatusDraft, Events: &Events{Created: &Event{At: at}}}}
	s.files = append(s.files, f)
	return f
}

func (s *fileStore) find(id string) *FileDetail {
	for _, f := range s.files {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (s *fileStore) live(ext string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, f := range s.files {
		if f.ExternalID == ext && f.Status != FileStatusDeleted {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func (s *fileStore) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func newFileStore(t *testing.T) (*fileStore, *Client) {
	store := &fileStore{t: t}
	srv := newServer(t, store.handle)
	c, _ := srv.client(t)
	return store, c
}

const extID = "usagepipe:PRD-1:CRD-1:20261124T000000Z"

func TestFindOrCreateAfterDroppedCreateMakesOneFile(t *testing.T) {
	store, c := newFileStore(t)
	store.dropCreate = 1
	f, created, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if err != nil {
		t.Fatal(err)
	}
	if live := store.live(extID); len(live) != 1 || f.ID != live[0] || !created {
		t.Errorf("live files %v, returned %s (created %v); want exactly one, returned, created", live, f.ID, created)
	}
	want := []string{"GET /usage/files", "POST /usage/files", "GET /usage/files", "GET /usage/files/" + f.ID}
	if got := store.calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// TestFindOrCreateWaitsOutListLag: the create's answer is lost and the list lags behind it: looking again
// after short waits finds the file instead of creating a second one.
func TestFindOrCreateWaitsOutListLag(t *testing.T) {
	store, c := newFileStore(t)
	store.dropCreate, store.lagLists = 1, 3
	f, created, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if err != nil {
		t.Fatal(err)
	}
	if live := store.live(extID); len(live) != 1 || f.ID != live[0] || !created {
		t.Errorf("live files %v, returned %s (created %v); want exactly one, returned, created", live, f.ID, created)
	}
}

// TestFindOrCreateRefusesAnIgnoredFilter: a lookup that answers other files (the server ignored the
// filter) fails at once, after one page, and creates nothing.
func TestFindOrCreateRefusesAnIgnoredFilter(t *testing.T) {
	store, c := newFileStore(t)
	store.noFilter = true
	for range 3 * findPageSize {
		store.add("someone-else", time.Now())
	}
	_, _, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if !errors.Is(err, ErrFilterIgnored) {
		t.Fatalf("err %v, want ErrFilterIgnored", err)
	}
	if calls := store.calls(); !slices.Equal(calls, []string{"GET /usage/files"}) {
		t.Errorf("calls %q, want one list", calls)
	}
}

func TestLagWaits(t *testing.T) {
	got := lagWaits(2 * time.Second)
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("lagWaits(2s) = %v, want %v", got, want)
	}
}

func TestFindOrCreateFindsExisting(t *testing.T) {
	store, c := newFileStore(t)
	store.add(extID, time.Now())
	f, created, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if err != nil || created || f.ID != store.files[0].ID {
		t.Fatalf("got %v, %v, %v", f, created, err)
	}
	if slices.Contains(store.calls(), "POST /usage/files") {
		t.Error("created although a file existed")
	}
}

func TestFindOrCreateIgnoresDeletedFiles(t *testing.T) {
	store, c := newFileStore(t)
	store.add(extID, time.Now()).Status = FileStatusDeleted
	f, created, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if err != nil || !created || f.ID == store.files[0].ID {
		t.Fatalf("got %v, %v, %v; want a new file", f, created, err)
	}
}

func TestFindOrCreateLooksAgainAfter5xx(t *testing.T) {
	store, c := newFileStore(t)
	store.failCreate = 1
	if _, _, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID}); err != nil {
		t.Fatal(err)
	}
	calls := store.calls()
	// A 503 may hide a created file: the lookup is repeated after each lag wait before creating again.
	want := []string{"GET /usage/files", "POST /usage/files"}
	for range 1 + len(lagWaits(DefaultRetryPolicy.ListLag)) {
		want = append(want, "GET /usage/files")
	}
	want = append(want, "POST /usage/files", "GET /usage/files")
	if len(calls) < len(want) || !slices.Equal(calls[:len(want)], want) {
		t.Errorf("calls %q, want to start %q", calls, want)
	}
	if live := store.live(extID); len(live) != 1 {
		t.Errorf("live files %v", live)
	}
}

func TestFindOrCreatePermanentFailure(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == "GET" {
			w.Header().Set("Content-Range", "items 0-0/0")
			writeJSON(w, 200, []File{})
			return
		}
		writeJSON(w, 400, ErrorBody{ErrorCode: "VAL_001", Errors: []string{"contract: not found"}})
	})
	c, _ := srv.client(t)
	if _, _, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID}); !IsBadRequest(err) {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want list + one create", n)
	}
}

func TestFindOrCreateSettlesARace(t *testing.T) {
	store, c := newFileStore(t)
	// Another creator's file, older than ours, appears while we create.
	store.onCreate = func(s *fileStore) {
		if len(s.files) == 1 {
			s.add(extID, time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC))
		}
	}
	f, created, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{ExternalID: extID})
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := store.files[0], store.files[1]
	if f.ID != theirs.ID || created || ours.Status != FileStatusDeleted {
		t.Errorf("returned %s (created %v), ours %s is %s; want theirs, ours deleted", f.ID, created, ours.ID, ours.Status)
	}
}

func TestFindOrCreateNeedsExternalID(t *testing.T) {
	_, c := newFileStore(t)
	if _, _, err := c.FindOrCreateFile(ctxT(t), CreateFileRequest{Name: "x"}); !errors.Is(err, ErrNoExternalID) {
		t.Fatal(err)
	}
}
