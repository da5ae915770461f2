package connectemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

const testKey = "SU-000-000-001:secret"

// testServer is an emulator behind a real HTTP server, spoken to with raw requests.
type testServer struct {
	*Emulator
	srv *httptest.Server
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	if opts.APIKeys == nil {
		opts.APIKeys = []string{testKey}
	}
	em := New(opts)
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(func() { srv.Close(); _ = em.Close() })
	return &testServer{Emulator: em, srv: srv}
}

// reply is a raw answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (s *testServer) do(t *testing.T, method, path, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+testKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *testServer) json(t *testing.T, method, path string, body any) reply {
	t.Helper()
	b, _ := json.Marshal(body)
	return s.do(t, method, path, "application/json", b)
}

// decode decodes a reply's JSON body, failing on a status other than want.
func decode[T any](t *testing.T, r reply, want int) T {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// createFile creates a draft file over HTTP and returns its id.
func (s *testServer) createFile(t *testing.T, externalID string) string {
	t.Helper()
	r := s.json(t, "POST", "/public/v1/usage/files", usageapi.CreateFileRequest{
		ExternalID: externalID, Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"},
		Period: &usageapi.Period{From: usageapi.Date{Year: 2026, Month: 11, Day: 1}, To: usageapi.Date{Year: 2026, Month: 11, Day: 30}},
	})
	return decode[usageapi.FileCreated](t, r, http.StatusCreated).ID
}

// upload uploads a workbook of n valid records and waits for processing.
func (s *testServer) upload(t *testing.T, id string, n int) usageapi.FileDetail {
	t.Helper()
	body, ctype := multipartBody(t, "usage_file", sampleWorkbook(t, n))
	decode[usageapi.FileDetail](t, s.do(t, "POST", "/public/v1/usage/files/"+id+"/upload", ctype, body), http.StatusOK)
	if err := s.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	f, _ := s.File(id)
	return f
}

func multipartBody(t *testing.T, field string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile(field, "usage.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// sampleWorkbook writes n valid records for the sample catalog.
func sampleWorkbook(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	recs := func(yield func(usagefile.Record) bool) {
		for i := range n {
			start := time.Date(2026, 11, 1, i%24, 0, 0, 0, time.UTC)
			r := usagefile.Record{
				RecordID: "r-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), ItemSearchCriteria: usagefile.ItemByMPN,
				ItemSearchValue: "CPU_HOURS", Quantity: events.MustDecimal("1.2345"), StartTimeUTC: start,
				EndTimeUTC: start.Add(time.Hour), AssetSearchCriteria: "parameter.subscription_id",
				AssetSearchValue: "sub-0002", Precision: events.PrecisionDecimal4,
			}
			if !yield(r) {
				return
			}
		}
	}
	if err := usagefile.Write(&buf, usagefile.WriteOptions{Schema: events.SchemaQT}, recs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDetailOnlyFields(t *testing.T) {
	s := newTestServer(t, Options{})
	id := s.createFile(t, "detail")
	s.upload(t, id, 2)
	list := s.do(t, "GET", "/public/v1/usage/files", "", nil)
	for _, field := range []string{"usage_file_uri", "processed_file_uri", `"records"`, "sub_status"} {
		if bytes.Contains(list.body, []byte(field)) {
			t.Errorf("list item carries detail-only %s: %s", field, list.body)
		}
	}
	detail := decode[usageapi.FileDetail](t, s.do(t, "GET", "/public/v1/usage/files/"+id, "", nil), 200)
	if !strings.HasPrefix(detail.UsageFileURI, s.srv.URL+"/usage-collector/") || detail.ProcessedFileURI == "" || detail.Records == nil {
		t.Fatalf("detail %+v", detail)
	}
	resp, err := http.Get(detail.ProcessedFileURI) // signed: no Authorization
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != usageapi.XLSXContentType {
		t.Fatalf("download processed: %v %v", resp, err)
	}
	resp.Body.Close()
	forged := strings.Replace(detail.ProcessedFileURI, "sig=", "sig=0", 1)
	if resp, err := http.Get(forged); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged link: %v %v", resp, err)
	}
}

func TestListHeadersAndSimpleFilters(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, ext := range []string{"a", "b", "c"} {
		s.createFile(t, ext)
	}
	tests := []struct {
		query, wantRange string
		wantLen          int
	}{
		{"", "items 0-2/3", 3},
		{"limit=0", "items 0-0/3", 0},
		{"limit=2&offset=2", "items 2-2/3", 1},
		{"offset=5", "items 5-5/3", 0},
		{"external_id=b", "items 0-0/1", 1},
		{"status=draft&external_id=ne=b", "items 0-1/2", 2},
		{"in(external_id,(a,c))&ordering(-created.at)", "items 0-1/2", 2},
		{"ordering(-external_id)", "", -1},
		{"not(and(eq(status,draft),eq(external_id,a)))", "", -1},
	}
	for _, tt := range tests {
		r := s.do(t, "GET", "/public/v1/usage/files?"+tt.query, "", nil)
		if tt.wantLen < 0 {
			decode[usageapi.ErrorBody](t, r, 400)
			continue
		}
		items := decode[[]usageapi.File](t, r, 200)
		if got := r.header.Get("Content-Range"); got != tt.wantRange || len(items) != tt.wantLen {
			t.Errorf("?%s: %q with %d items, want %q and %d", tt.query, got, len(items), tt.wantRange, tt.wantLen)
		}
	}
	bad := decode[usageapi.ErrorBody](t, s.do(t, "GET", "/public/v1/usage/files?eq(colour,red)", "", nil), 400)
	if bad.ErrorCode != CodeRQL {
		t.Fatalf("unknown field: %+v", bad)
	}
}

func TestPathsAndBodies(t *testing.T) {
	s := newTestServer(t, Options{})
	id := s.createFile(t, "paths")
	if r := s.do(t, "GET", "/public/v1/usage/files/"+id+"/", "", nil); r.status != 200 {
		t.Fatalf("trailing slash: %d", r.status)
	}
	if r := s.do(t, "GET", "/public/v1//usage/files/"+id, "", nil); r.status != 200 {
		t.Fatalf("double slash: %d", r.status)
	}
	if r := s.do(t, "GET", "/public/v1/usage/nothing", "", nil); r.status != 404 {
		t.Fatalf("unknown route: %d", r.status)
	}
	s.upload(t, id, 1)
	r := s.do(t, "POST", "/public/v1/usage/files/"+id+"/submit", "application/json", []byte("null"))
	var body map[string]any
	_ = json.Unmarshal(r.body, &body)
	if r.status != 500 || body["error_code"] != nil || body["errors"] == nil {
		t.Fatalf("submit with body null: %d %s, want Connect's 500", r.status, r.body)
	}
	if r := s.do(t, "POST", "/public/v1/usage/files/"+id+"/submit", "", nil); r.status != 200 {
		t.Fatalf("submit without a body: %d %s", r.status, r.body)
	}
	if r := s.do(t, "POST", "/public/v1/usage/files", "application/json", []byte("{")); r.status != 400 {
		t.Fatalf("bad JSON: %d", r.status)
	}
}

func TestAuthAndRoles(t *testing.T) {
	s := newTestServer(t, Options{APIKeys: []string{testKey}, ProviderAPIKeys: []string{"SU-000-000-002:prov"}})
	for name, header := range map[string]string{"no key": "", "bare key": testKey, "other scheme": "Bearer " + testKey,
		"lower-case scheme": "apikey " + testKey, "unknown key": "ApiKey SU-000-000-009:nope"} {
		req, _ := http.NewRequest("GET", s.srv.URL+"/public/v1/usage/files", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !bytes.Contains(body, []byte("AUTH_001")) {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	id := s.createFile(t, "roles")
	s.upload(t, id, 1)
	s.json(t, "POST", "/public/v1/usage/files/"+id+"/submit", map[string]any{})
	forbidden := decode[usageapi.ErrorBody](t, s.json(t, "POST", "/public/v1/usage/files/"+id+"/accept", map[string]any{}), 403)
	if forbidden.ErrorCode != CodeForbidden {
		t.Fatalf("vendor key accepting: %+v", forbidden)
	}
	f, _ := s.File(id)
	if f.Events.Created.By == nil || f.Events.Created.By.ID != "SU-000-000-001" {
		t.Fatalf("created by %+v, want the token id", f.Events.Created.By)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	s := newTestServer(t, Options{})
	if err := s.SetFaults("files.create", Fault{Kind: FaultCommitDrop}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(usageapi.CreateFileRequest{ExternalID: "dropped", Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}})
	var created usageapi.FileCreated
	if err := s.call("POST", "/public/v1/usage/files", "application/json", b, &created); err == nil || strings.Contains(err.Error(), "POST") {
		t.Fatalf("commit-drop: %v, want a network error", err)
	}
	if files := s.Files(); len(files) != 1 || files[0].ExternalID != "dropped" {
		t.Fatalf("commit-drop did not commit: %+v", files)
	}
	_ = s.SetFaults("*", Fault{Kind: FaultThrottle, Delay: 1500 * time.Millisecond})
	r := s.do(t, "GET", "/public/v1/usage/files", "", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("429: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r := s.do(t, "GET", "/public/v1/usage/files", "", nil); r.status != 200 {
		t.Fatalf("after the fault: %d", r.status)
	}
	if err := s.SetFaults("no.such.route", Fault{Kind: FaultReset}); !errors.Is(err, ErrFaultSpec) {
		t.Fatalf("unknown route: %v", err)
	}
}

func TestParseFaults(t *testing.T) {
	got, err := ParseFaults("latency:50ms*2, 429:3s, 503*forever, reset~0.5, commit-then-drop")
	if err != nil {
		t.Fatal(err)
	}
	want := []Fault{
		{Kind: FaultLatency, Delay: 50 * time.Millisecond, Times: 2}, {Kind: FaultThrottle, Delay: 3 * time.Second, Times: 1},
		{Kind: FaultStatus, Status: 503, Times: -1}, {Kind: FaultReset, Probability: 0.5}, {Kind: FaultCommitDrop, Times: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fault %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "teapot", "latency", "500*0", "reset~2", "429:soon"} {
		if _, err := ParseFaults(bad); !errors.Is(err, ErrFaultSpec) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := newTestServer(t, Options{})
	workbook := sampleWorkbook(t, 3)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := s.createAndUpload(fmt.Sprintf("c%d", i), workbook); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.Files()) != 8 {
		t.Fatalf("%d files, want 8", len(s.Files()))
	}
	for _, f := range s.Files() {
		if f.Status != usageapi.FileStatusReady || len(s.Records(f.ID)) != 3 {
			t.Errorf("file %s: %s with %d records", f.ID, f.Status, len(s.Records(f.ID)))
		}
	}
}

// createAndUpload creates a file and uploads a workbook with plain HTTP calls (safe off the test goroutine).
func (s *testServer) createAndUpload(externalID string, workbook []byte) error {
	b, _ := json.Marshal(usageapi.CreateFileRequest{ExternalID: externalID, Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}})
	var created usageapi.FileCreated
	if err := s.call("POST", "/public/v1/usage/files", "application/json", b, &created); err != nil {
		return err
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("usage_file", "u.xlsx")
	_, _ = part.Write(workbook)
	_ = w.Close()
	var f usageapi.FileDetail
	return s.call("POST", "/public/v1/usage/files/"+created.ID+"/upload", w.FormDataContentType(), buf.Bytes(), &f)
}

func (s *testServer) call(method, path, ctype string, body []byte, out any) error {
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "ApiKey "+testKey)
	req.Header.Set("Content-Type", ctype)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}
