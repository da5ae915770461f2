package usageapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// pagedFiles serves n files like Connect: limit/offset, a cap of maxLimit, Content-Range
// (omitted when withRange is false).
func pagedFiles(t *testing.T, n, maxLimit int, withRange bool) *server {
	return newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		q := r.URL.Query()
		limit, err1 := strconv.Atoi(q.Get("limit"))
		offset, err2 := strconv.Atoi(q.Get("offset"))
		if err1 != nil || err2 != nil {
			t.Errorf("query %q lacks limit/offset", r.URL.RawQuery)
		}
		limit = min(limit, maxLimit)
		page := []File{}
		for i := offset; i < min(offset+limit, n); i++ {
			page = append(page, File{ID: fmt.Sprintf("UF-%04d", i), ExternalID: "x", Status: FileStatusReady})
		}
		if withRange {
			w.Header().Set("Content-Range", PageRange(offset, len(page), n).String())
		}
		writeJSON(w, 200, page)
	})
}

func TestListPagesAcrossPages(t *testing.T) {
	s := pagedFiles(t, 25, 1000, true)
	c, _ := s.client(t)
	files, err := c.Files(Eq("status", "ready"), Limit(10)).Collect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, files, 0, 25)
	var queries []string
	for _, r := range s.requests() {
		queries = append(queries, r.Query)
	}
	want := []string{"eq(status,ready)&ordering(created.at,id)&limit=10&offset=0",
		"eq(status,ready)&ordering(created.at,id)&limit=10&offset=10", "eq(status,ready)&ordering(created.at,id)&limit=10&offset=20"}
	if fmt.Sprint(queries) != fmt.Sprint(want) {
		t.Errorf("queries %q, want %q", queries, want)
	}
}

// TestListDefaultOrdering: files and records are paged in a stable order unless the caller orders them.
func TestListDefaultOrdering(t *testing.T) {
	s := pagedFiles(t, 1, 1000, true)
	c, _ := s.client(t)
	for _, l := range []interface {
		Collect(context.Context) ([]File, error)
	}{
		c.Files(), c.Files(Ordering("-status")),
	} {
		if _, err := l.Collect(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Files(Eq("status", "ready")).Count(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, r := range s.requests() {
		queries = append(queries, r.Query)
	}
	want := []string{"ordering(created.at,id)&limit=100&offset=0", "ordering(-status)&limit=100&offset=0", "eq(status,ready)&limit=0&offset=0"}
	if !slices.Equal(queries, want) {
		t.Errorf("queries %q, want %q", queries, want)
	}
}

func TestListFollowsCappedLimit(t *testing.T) {
	// The server cuts limit=10 to 4 silently: the next offset must count items received.
	s := pagedFiles(t, 10, 4, true)
	c, _ := s.client(t)
	files, err := c.Files(Limit(10)).Collect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, files, 0, 10)
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestListWithoutContentRange(t *testing.T) {
	s := pagedFiles(t, 7, 1000, false)
	c, _ := s.client(t)
	files, err := c.Files(Limit(3), Offset(2)).Collect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, files, 2, 7)
}

func TestListExactMultipleStopsOnTotal(t *testing.T) {
	s := pagedFiles(t, 20, 1000, true)
	c, _ := s.client(t)
	if _, err := c.Files(Limit(10)).Collect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (no trailing empty page)", n)
	}
}

func TestListEarlyBreak(t *testing.T) {
	s := pagedFiles(t, 50, 1000, true)
	c, _ := s.client(t)
	n := 0
	for _, err := range c.Files(Limit(10)).All(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if got := len(s.requests()); got != 1 {
		t.Errorf("%d requests after breaking in the first page, want 1", got)
	}
}

func TestListErrorStopsIteration(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.URL.Query().Get("offset") == "0" {
			w.Header().Set("Content-Range", "items 0-1/4")
			writeJSON(w, 200, []File{{ID: "UF-1", Status: FileStatusDraft}, {ID: "UF-2", Status: FileStatusDraft}})
			return
		}
		writeJSON(w, 400, ErrorBody{ErrorCode: "RQL_001", Errors: []string{"bad"}})
	})
	c, _ := s.client(t)
	var ids []string
	var last error
	for f, err := range c.Files(Limit(2)).All(ctxT(t)) {
		if err != nil {
			last = err
			continue
		}
		ids = append(ids, f.ID)
	}
	if len(ids) != 2 || !IsBadRequest(last) {
		t.Errorf("ids %v, err %v; want 2 ids then a 400", ids, last)
	}
}

func TestListRejectsLimitZeroAndBadTerms(t *testing.T) {
	s := pagedFiles(t, 1, 1000, true)
	c, _ := s.client(t)
	if _, err := c.Files(Limit(0)).Collect(ctxT(t)); !errors.Is(err, ErrBadQuery) {
		t.Errorf("Limit(0): %v", err)
	}
	if _, err := c.Files(In[string]("status")).Collect(ctxT(t)); !errors.Is(err, ErrBadQuery) {
		t.Errorf("empty In: %v", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent for bad queries", n)
	}
}

func TestCount(t *testing.T) {
	s := pagedFiles(t, 1234, 1000, true)
	c, _ := s.client(t)
	n, err := c.Files(Eq("status", "ready"), Limit(7), Offset(3)).Count(ctxT(t))
	if err != nil || n != 1234 {
		t.Fatalf("Count = %d, %v; want 1234", n, err)
	}
	reqs := s.requests()
	if len(reqs) != 1 || reqs[0].Query != "eq(status,ready)&limit=0&offset=0" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestCountWithoutContentRange(t *testing.T) {
	s := pagedFiles(t, 3, 1000, false)
	c, _ := s.client(t)
	if _, err := c.Files().Count(ctxT(t)); !errors.Is(err, ErrNoContentRange) {
		t.Errorf("err %v, want ErrNoContentRange", err)
	}
}

func TestContentRange(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ContentRange
		ok   bool
	}{
		{"items 0-9/25", ContentRange{0, 9, 25}, true},
		{"items 0-0/0", ContentRange{0, 0, 0}, true},
		{"items 30-30/25", ContentRange{30, 30, 25}, true},
		{"items 0-9", ContentRange{}, false},
		{"items 9-0/25", ContentRange{}, false},
		{"0-9/25", ContentRange{}, false},
		{"items a-b/c", ContentRange{}, false},
	} {
		got, err := ParseContentRange(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseContentRange(%q) = %v, %v", tt.in, got, err)
		}
	}
	if got := PageRange(0, 0, 0).String(); got != "items 0-0/0" {
		t.Errorf("empty page range %q", got)
	}
	if got := PageRange(10, 5, 15).String(); got != "items 10-14/15" {
		t.Errorf("page range %q", got)
	}
}

func checkIDs(t *testing.T, files []File, from, to int) {
	t.Helper()
	if len(files) != to-from {
		t.Fatalf("%d files, want %d", len(files), to-from)
	}
	for i, f := range files {
		if want := fmt.Sprintf("UF-%04d", from+i); f.ID != want {
			t.Fatalf("file %d is %s, want %s", i, f.ID, want)
		}
	}
}
