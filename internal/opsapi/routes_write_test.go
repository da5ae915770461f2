package opsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// post sends POST path with body (JSON) and the key (none if empty) and decodes the answer into v.
func post(t *testing.T, base, path, key string, body, v any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, raw)
	}
	return resp.StatusCode
}

// TestWriteRoutes: dead letters listed and replayed (a dry run, then for real, recorded with the key's
// operator), parked files listed and abandoned over HTTP, a refused action answered 409 conflict, and no
// action without a key.
func TestWriteRoutes(t *testing.T) {
	w := pipelinetest.Start(t, 2)
	svc := opsapi.Services{}
	if err := opsapi.AddWriteServices(context.Background(), w.Conn, &svc, opsapi.ReadConfig{Catalog: w.Catalog,
		Partitions: w.Partitions, Connect: w.Connect}); err != nil {
		t.Fatal(err)
	}
	keys, _ := opsapi.LoadKeys("", "alice="+key)
	srv := httptest.NewServer(opsapi.NewHandler(opsapi.Options{Keys: keys}, svc))
	defer srv.Close()
	id := keptRejection(t, w)

	var list struct {
		Letters []struct{ ID, State string }
		Counts  []struct {
			Stage, Reason string
			Open          int
		}
	}
	if st := call(t, srv.URL, "/api/v1/deadletters?"+url.Values{"open": {"true"}, "stage": {"ingest"}}.Encode(), &list); st != 200 ||
		len(list.Letters) != 1 || list.Letters[0].ID != id || len(list.Counts) != 1 || list.Counts[0].Open != 1 {
		t.Fatalf("list: %d %+v", st, list)
	}
	var rep struct {
		Items []struct {
			ID, Decision string
			Executed     bool
		}
	}
	if st := post(t, srv.URL, "/api/v1/deadletters/replay", key, map[string]any{"ids": []string{id}}, &rep); st != 200 ||
		len(rep.Items) != 1 || rep.Items[0].Decision != "count" || rep.Items[0].Executed {
		t.Fatalf("dry run: %d %+v", st, rep)
	}
	if st := post(t, srv.URL, "/api/v1/deadletters/replay", key, map[string]any{"execute": true}, &rep); st != 200 || !rep.Items[0].Executed {
		t.Fatalf("replay: %d %+v", st, rep)
	}
	log, _, err := w.Ledger.Replay(context.Background(), id)
	if err != nil || log.State != ledger.ReplayDone || log.Actor != (ledger.Actor{Name: "alice", Via: "http"}) {
		t.Fatalf("replay log %+v, %v", log, err)
	}
	checkParkedRoutes(t, w, srv.URL)
	var e struct{ Error struct{ Reason string } }
	if st := post(t, srv.URL, "/api/v1/deadletters/replay", "", map[string]any{"execute": true}, &e); st != 401 || e.Error.Reason != "unauthorized" {
		t.Errorf("a replay without a key: %d %+v", st, e)
	}
}

// keptRejection publishes, as ingest keeps it, an event of the world's product rejected as unknown_product
// (the catalog has the product now: the cause is fixed); it returns the letter's id.
func keptRejection(t *testing.T, w *pipelinetest.World) string {
	t.Helper()
	ev := pipelinetest.Event("kept-1", pipelinetest.FastProduct, "AS-0400-0000-0009", "UNITS", "1.5", time.Now())
	raw, _ := json.Marshal(ev)
	dl := events.DeadLetter{Stage: events.StageIngest, Reason: events.ReasonUnknownProduct, Message: "unknown product", At: time.Now()}
	dl.SetPayload(raw)
	data, _ := json.Marshal(dl)
	ack, err := w.Conn.Publish(context.Background(), bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, events.ReasonUnknownProduct), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return "dlq-" + strconv.FormatUint(ack.Seq, 10)
}

// checkParkedRoutes lists a rejected entry, abandons it with the key's operator, and wants a second
// abandonment refused with 409.
func checkParkedRoutes(t *testing.T, w *pipelinetest.World, base string) {
	t.Helper()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fid := ledger.FileID{Product: pipelinetest.FastProduct, Contract: pipelinetest.Contract, PeriodStart: start, Part: 1}
	entry := &ledger.Entry{Key: fid.Key(), Product: fid.Product, Contract: fid.Contract, PeriodStart: start, PeriodEnd: start.Add(2 * time.Second),
		Part: 1, Parts: 1, State: ledger.StateRejected, FileID: "UF-0000-0000-0000-0001", ExternalID: fid.ExternalID(),
		History: []ledger.Transition{{State: ledger.StateRejected, At: start}}}
	if _, err := w.Ledger.Create(context.Background(), entry); err != nil {
		t.Fatal(err)
	}
	var views []struct{ Key, Reason string }
	if st := call(t, base, "/api/v1/parked", &views); st != 200 || len(views) != 1 || views[0].Reason != "rejected" {
		t.Fatalf("parked: %d %+v", st, views)
	}
	var res struct{ Action, Outcome string }
	if st := post(t, base, "/api/v1/parked/"+fid.Key()+"/abandon", key, map[string]string{"note": "the subscription ended"}, &res); st != 200 ||
		res.Action != "abandon" {
		t.Fatalf("abandon: %d %+v", st, res)
	}
	got, _, _ := w.Ledger.Get(context.Background(), fid.Key())
	if last := got.History[len(got.History)-1]; got.State != ledger.StateAbandoned || last.By != "alice (http)" {
		t.Errorf("abandoned entry %s, last transition %+v", got.State, last)
	}
	var e struct {
		Error struct{ Reason, Message string }
	}
	if st := post(t, base, "/api/v1/parked/"+fid.Key()+"/abandon", key, map[string]string{"note": "again"}, &e); st != 409 || e.Error.Reason != "conflict" {
		t.Errorf("a second abandonment: %d %+v", st, e)
	}
}
