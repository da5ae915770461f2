package usageapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequests checks what each operation sends: method, path, query and (golden) body.
func TestRequests(t *testing.T) {
	file := map[string]any{"id": "UF-2026-11-0001-0001", "external_id": "x", "status": "pending"}
	tests := []struct {
		name       string
		call       func(c *Client) error
		method     string
		path       string // below /public/v1
		query      string
		golden     string // request body golden file; "" means no body
		status     int
		answer     any
		wantAnswer func(t *testing.T, got any)
	}{
		{name: "create file", method: "POST", path: "/usage/files", golden: "create_file.json", status: 201,
			answer: map[string]any{"id": "UF-1", "external_id": "k", "vendor": "VA-1", "provider": "PA-1", "marketplace": "MP-1",
				"distribution_contract": "CRD-1", "product_id": "PRD-1", "schema": "qt", "environment": "production"},
			call: func(c *Client) error {
				f, err := c.CreateFile(ctxT(t), CreateFileRequest{
					Name: "usagepipe PRD-1 2026-11-24", Description: "daily usage", Note: "generated",
					Period:   &Period{From: Date{2026, 11, 24}, To: Date{2026, 11, 24}},
					Currency: "USD", Product: &IDRef{ID: "PRD-1"}, Contract: &IDRef{ID: "CRD-1"},
					ExternalID: "usagepipe:PRD-1:CRD-1:20261124T000000Z",
				})
				if err == nil && (f.ID != "UF-1" || f.Vendor != "VA-1" || f.DistributionContract != "CRD-1" || f.Schema != SchemaQT) {
					t.Errorf("create answer decoded as %+v", f)
				}
				return err
			}},
		{name: "update file", method: "PUT", path: "/usage/files/UF-1", golden: "update_file.json", status: 200,
			answer: map[string]any{"description": "d", "note": "n", "external_id": "e"},
			call: func(c *Client) error {
				_, err := c.UpdateFile(ctxT(t), "UF-1", UpdateFileRequest{Description: "d", Note: "n", ExternalID: "e"})
				return err
			}},
		{name: "get file", method: "GET", path: "/usage/files/UF-1", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.GetFile(ctxT(t), "UF-1"); return err }},
		{name: "submit sends {}", method: "POST", path: "/usage/files/UF-1/submit", golden: "empty.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.SubmitFile(ctxT(t), "UF-1"); return err }},
		{name: "accept", method: "POST", path: "/usage/files/UF-1/accept", golden: "accept_file.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.AcceptFile(ctxT(t), "UF-1", "looks right"); return err }},
		{name: "reject", method: "POST", path: "/usage/files/UF-1/reject", golden: "reject_file.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.RejectFile(ctxT(t), "UF-1", "quantities too high"); return err }},
		{name: "close file", method: "POST", path: "/usage/files/UF-1/close", golden: "empty.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.CloseFile(ctxT(t), "UF-1"); return err }},
		{name: "delete file", method: "POST", path: "/usage/files/UF-1/delete", golden: "empty.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.DeleteFile(ctxT(t), "UF-1"); return err }},
		{name: "approve all", method: "PUT", path: "/usage/files/UF-1/approve-all", golden: "empty.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.ApproveAllRecords(ctxT(t), "UF-1"); return err }},
		{name: "reprocess", method: "POST", path: "/usage/files/UF-1/reprocess", golden: "empty.json", status: 200, answer: file,
			call: func(c *Client) error { _, err := c.ReprocessFile(ctxT(t), "UF-1"); return err }},
		{name: "template link", method: "GET", path: "/usage/products/PRD-1/template", status: 200,
			answer: map[string]any{"template_link": "https://example.test/t.xlsx"},
			call: func(c *Client) error {
				link, err := c.ProductTemplateLink(ctxT(t), "PRD-1")
				if err == nil && link != "https://example.test/t.xlsx" {
					t.Errorf("link %q", link)
				}
				return err
			}},
		{name: "get record", method: "GET", path: "/usage/records/UR-1", status: 200,
			answer: json.RawMessage(`{"id":"UR-1","usage":12.3456,"amount":null,"usagefile":{"id":"UF-1"},"category":{"id":"c","name":"C"}}`),
			call: func(c *Client) error {
				r, err := c.GetRecord(ctxT(t), "UR-1")
				if err == nil && (r.Usage.String() != "12.3456" || r.Amount != "" || r.Category.Name != "C") {
					t.Errorf("record decoded as %+v", r)
				}
				return err
			}},
		{name: "update record status", method: "PUT", path: "/usage/records/UR-1", golden: "update_record.json", status: 200,
			answer: map[string]any{"id": "UR-1", "usage": 1},
			call: func(c *Client) error {
				_, err := c.UpdateRecordStatus(ctxT(t), "UR-1", RecordStatusApproved)
				return err
			}},
		{name: "close record", method: "POST", path: "/usage/records/UR-1/close", golden: "close_record.json", status: 200,
			answer: map[string]any{"id": "UR-1", "usage": 1, "status": "closed"},
			call:   func(c *Client) error { _, err := c.CloseRecord(ctxT(t), "UR-1", "INV-7", "billed 2026-11"); return err }},
		{name: "close records", method: "POST", path: "/usage/records/close-records", golden: "close_records.json", status: 206,
			answer: []map[string]any{{"id": "UR-1", "status": "closed"}, {"id": "UR-2", "status": "approved", "error_codes": "VAL_001", "error_details": "no"}},
			call: func(c *Client) error {
				res, err := c.CloseRecords(ctxT(t), []CloseRecordRequest{
					{ID: "UR-1", ExternalBillingID: "INV-7", ExternalBillingNote: "billed"},
					{ID: "UR-2", ExternalBillingNote: "Closed at 2026-11-25"},
				})
				if err == nil && (len(res) != 2 || res[0].Failed() || !res[1].Failed()) {
					t.Errorf("206 results %+v", res)
				}
				return err
			}},
		{name: "get chunk", method: "GET", path: "/usage/chunks/UFC-1", status: 200, answer: map[string]any{"id": "UFC-1", "external_id": ""},
			call: func(c *Client) error { _, err := c.GetChunk(ctxT(t), "UFC-1"); return err }},
		{name: "update chunk", method: "PUT", path: "/usage/chunks/UFC-1", golden: "update_chunk.json", status: 200,
			answer: map[string]any{"id": "UFC-1", "external_id": "B-1"},
			call:   func(c *Client) error { _, err := c.UpdateChunk(ctxT(t), "UFC-1", "B-1"); return err }},
		{name: "close chunk", method: "POST", path: "/usage/chunks/UFC-1/close", golden: "close_chunk.json", status: 200,
			answer: map[string]any{"id": "UFC-1", "external_id": "B-1", "status": "closed"},
			call: func(c *Client) error {
				_, err := c.CloseChunk(ctxT(t), "UFC-1", CloseChunkRequest{ExternalBillingID: "BATCH-9", ExternalBillingNote: "n"})
				return err
			}},
		{name: "regenerate chunk", method: "POST", path: "/usage/chunks/UFC-1/regenerate", golden: "empty.json", status: 200,
			answer: map[string]any{"id": "UFC-1", "external_id": "B-1"},
			call:   func(c *Client) error { _, err := c.RegenerateChunk(ctxT(t), "UFC-1"); return err }},
		{name: "get reconciliation", method: "GET", path: "/usage/reconciliations/RC-1", status: 200, answer: map[string]any{"id": "RC-1"},
			call: func(c *Client) error { _, err := c.GetReconciliation(ctxT(t), "RC-1"); return err }},
		{name: "get rule", method: "GET", path: "/products/PRD-1/usage/rules/UIR-1", status: 200, answer: map[string]any{"id": "UIR-1"},
			call: func(c *Client) error { _, err := c.GetRule(ctxT(t), "PRD-1", "UIR-1"); return err }},
		{name: "create rule", method: "POST", path: "/products/PRD-1/usage/rules", golden: "create_rule.json", status: 201,
			answer: map[string]any{"id": "UIR-1", "action": "accept"},
			call: func(c *Client) error {
				_, err := c.CreateRule(ctxT(t), "PRD-1", RuleRequest{Item: &IDRef{ID: "PRD-1-0001"}, Action: RuleActionAccept,
					Rule: "usage < 100", Status: RuleStatusActive})
				return err
			}},
		{name: "update rule", method: "PUT", path: "/products/PRD-1/usage/rules/UIR-1", golden: "update_rule.json", status: 200,
			answer: map[string]any{"id": "UIR-1"},
			call: func(c *Client) error {
				_, err := c.UpdateRule(ctxT(t), "PRD-1", "UIR-1", RuleRequest{Action: RuleActionManual, Gravity: &RuleGravity{After: "UIR-0"}})
				return err
			}},
		{name: "delete rule", method: "DELETE", path: "/products/PRD-1/usage/rules/UIR-1", status: 204,
			call: func(c *Client) error { return c.DeleteRule(ctxT(t), "PRD-1", "UIR-1") }},
		{name: "list files", method: "GET", path: "/usage/files", query: "eq(status,ready)&ordering(-created.at)&limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error {
				_, err := c.Files(Eq("status", "ready"), Ordering("-created.at")).Collect(ctxT(t))
				return err
			}},
		{name: "list records", method: "GET", path: "/usage/records", query: "eq(usagefile.id,UF-1)&ordering(created_time)&limit=1000&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error {
				_, err := c.Records(Eq("usagefile.id", "UF-1"), Limit(1000)).Collect(ctxT(t))
				return err
			}},
		{name: "list categories", method: "GET", path: "/usage/files/UF-1/categories", query: "limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error { _, err := c.Categories("UF-1").Collect(ctxT(t)); return err }},
		{name: "list chunks", method: "GET", path: "/usage/chunks", query: "eq(status,ready)&limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error { _, err := c.Chunks(Eq("status", "ready")).Collect(ctxT(t)); return err }},
		{name: "list reconciliations", method: "GET", path: "/usage/reconciliations", query: "limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error { _, err := c.Reconciliations().Collect(ctxT(t)); return err }},
		{name: "list aggregates", method: "GET", path: "/usage/aggregates", query: "eq(item.type,PPU)&limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error {
				_, err := c.Aggregates(Eq("item.type", ItemTypePPU)).Collect(ctxT(t))
				return err
			}},
		{name: "list asset aggregates", method: "GET", path: "/assets/AS-1/usage/aggregates", query: "limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error { _, err := c.AssetAggregates("AS-1").Collect(ctxT(t)); return err }},
		{name: "list rules", method: "GET", path: "/products/PRD-1/usage/rules", query: "eq(status,active)&limit=100&offset=0", status: 200, answer: []any{},
			call: func(c *Client) error { _, err := c.Rules("PRD-1", Eq("status", "active")).Collect(ctxT(t)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if tt.answer == nil {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, tt.answer)
			})
			c, _ := s.client(t)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			checkRequest(t, reqs[0], tt.method, "/public/v1"+tt.path, tt.query)
			if tt.golden == "" {
				if len(reqs[0].Body) != 0 {
					t.Errorf("body %q, want none", reqs[0].Body)
				}
				return
			}
			if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			golden(t, tt.golden, append(reqs[0].Body, '\n'))
		})
	}
}

func checkRequest(t *testing.T, r seen, method, path, query string) {
	t.Helper()
	if r.Method != method || r.Path != path || r.Query != query {
		t.Errorf("sent %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, method, path, query)
	}
	if got := r.Header.Get("Authorization"); got != "ApiKey "+testKey {
		t.Errorf("Authorization %q", got)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "usagepipe/") {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestCreateAnswerNestedShape(t *testing.T) {
	var f FileCreated
	err := json.Unmarshal([]byte(`{"id":"UF-1","external_id":"k","status":"draft","vendor":{"id":"VA-1","name":"V"},
		"provider":{"id":"PA-1"},"marketplace":{"id":"MP-1"},"contract":{"id":"CRD-1"},"product":{"id":"PRD-1","name":"P"},
		"start_datetime_utc":"2026-11-24T00:00:00+00:00"}`), &f)
	if err != nil {
		t.Fatal(err)
	}
	want := FileCreated{ID: "UF-1", ExternalID: "k", Status: FileStatusDraft, Vendor: "VA-1", Provider: "PA-1",
		Marketplace: "MP-1", DistributionContract: "CRD-1", ProductID: "PRD-1", ProductName: "P"}
	start := f.StartDatetimeUTC
	f.StartDatetimeUTC = nil
	if f != want || start == nil || !start.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v (start %v), want %+v", f, start, want)
	}
}
