package opsapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
)

func TestMain(m *testing.M) { pipelinetest.Main(m) }

const key = "alice-key-0123456789"

// call sends GET path with the operator key and decodes the JSON answer into v; it returns the status.
func call(t *testing.T, base, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, b)
	}
	return resp.StatusCode
}

// TestReadRoutes: explain, usage and status over HTTP against the running pipeline, and their errors with
// reason codes (a bad query, a record not found, a partition without an owner).
func TestReadRoutes(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	stopAgg := w.StartAggregator("a1")
	w.StartSubmitter("s1")
	svc, err := opsapi.NewReadServices(context.Background(), w.Conn, opsapi.ReadConfig{Catalog: w.Catalog,
		Partitions: w.Partitions, Connect: w.Connect})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := opsapi.LoadKeys("", "alice="+key)
	srv := httptest.NewServer(opsapi.NewHandler(opsapi.Options{Keys: keys}, svc))
	defer srv.Close()
	t0 := time.Now().UTC()
	e := pipelinetest.Event("h1", pipelinetest.FastProduct, "AS-0400-0000-0001", "UNITS", "2.5", t0)
	w.Publish(e)
	w.WaitAccepted(pipelinetest.FastProduct, t0, 0, 60*time.Second)

	var ev struct {
		Summary  string
		Found    bool
		Counting struct {
			State  string
			Record struct {
				RecordID string `json:"record_id"`
			}
		}
	}
	q := url.Values{"source": {e.Source}, "id": {e.ID}, "subject": {e.Subject}, "time": {t0.Format(time.RFC3339Nano)}}
	if st := call(t, srv.URL, "/api/v1/explain/event?"+q.Encode(), &ev); st != 200 || !ev.Found || ev.Counting.State != "closed" {
		t.Fatalf("explain event: %d %+v", st, ev)
	}
	var rec struct{ Events struct{ Matches bool } }
	if st := call(t, srv.URL, "/api/v1/explain/record/"+ev.Counting.Record.RecordID, &rec); st != 200 || !rec.Events.Matches {
		t.Errorf("explain record: %d %+v", st, rec)
	}
	base := w.WaitAccepted(pipelinetest.FastProduct, t0, 0, time.Second)
	var file struct {
		File    struct{ State string }
		History []struct{ State string }
	}
	if st := call(t, srv.URL, "/api/v1/explain/file/"+base.Key, &file); st != 200 || file.File.State != "accepted" || len(file.History) == 0 {
		t.Errorf("explain file by its ledger key: %d %+v", st, file)
	}
	var u struct {
		Owner  string
		Closed []struct{ Item, Value string }
	}
	if st := call(t, srv.URL, "/api/v1/usage/"+e.Subject, &u); st != 200 || u.Owner != "a1" || len(u.Closed) != 1 || u.Closed[0].Value != "2.5" {
		t.Errorf("usage: %d %+v", st, u)
	}
	var st struct{ Problems []struct{ Code string } }
	if code := call(t, srv.URL, "/api/v1/status", &st); code != 200 {
		t.Errorf("status: %d", code)
	}
	checkErrors(t, srv.URL, e.Subject, stopAgg)
}

func checkErrors(t *testing.T, base, sub string, stopAgg func()) {
	t.Helper()
	var e struct {
		Error struct{ Reason, Message string }
	}
	if st := call(t, base, "/api/v1/explain/event?id=x", &e); st != 400 || e.Error.Reason != opsapi.ReasonBadRequest {
		t.Errorf("missing source: %d %+v", st, e)
	}
	if st := call(t, base, "/api/v1/explain/record/"+strings.Repeat("ab", 20), &e); st != 404 || e.Error.Reason != opsapi.ReasonNotFound {
		t.Errorf("unknown record: %d %+v", st, e)
	}
	stopAgg()
	if st := call(t, base, "/api/v1/usage/"+sub, &e); st != 503 || e.Error.Reason != opsapi.ReasonNoOwner {
		t.Errorf("no owner: %d %+v", st, e)
	}
}
