package usageapitest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// acceptedFile makes a file with n records and has the provider accept it.
func (tg *target) acceptedFile(t *testing.T, name string, n int) *usageapi.FileDetail {
	t.Helper()
	provider := tg.needProvider(t)
	f := tg.readyFile(t, name, n)
	tg.allowSubmit(t)
	if _, err := tg.vendor.SubmitFile(ctx(t), f.ID); err != nil {
		t.Fatal(err)
	}
	f, err := provider.AcceptFile(ctx(t), f.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusAccepted)
	return f
}

// testRecordOperations: per-record status while pending, approve-all, single and bulk close, and
// reprocess closing the file once every record is closed.
func testRecordOperations(t *testing.T, tg *target) {
	provider := tg.needProvider(t)
	c := ctx(t)
	f := tg.readyFile(t, "record-ops", 3)
	tg.allowSubmit(t)
	if _, err := tg.vendor.SubmitFile(c, f.ID); err != nil {
		t.Fatal(err)
	}
	recs := tg.recordsOf(t, provider, f.ID)
	r, err := provider.UpdateRecordStatus(c, recs[0].ID, usageapi.RecordStatusApproved)
	if err != nil || r.Status != usageapi.RecordStatusApproved {
		t.Fatalf("approve one record: %+v, %v", r, err)
	}
	if _, err := provider.ApproveAllRecords(c, f.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range tg.recordsOf(t, provider, f.ID) {
		if r.Status != usageapi.RecordStatusApproved {
			t.Fatalf("after approve-all record %s is %s", r.ID, r.Status)
		}
	}
	if _, err := provider.AcceptFile(c, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	one, err := provider.CloseRecord(c, recs[0].ID, "BILL-1", "billed in batch 1")
	if err != nil || one.Status != usageapi.RecordStatusClosed || one.ExternalBillingID != "BILL-1" {
		t.Fatalf("close one record: %+v, %v", one, err)
	}
	results, err := provider.CloseRecords(c, []usageapi.CloseRecordRequest{
		{ID: recs[1].ID, ExternalBillingID: "BILL-2"}, {ID: recs[2].ID, ExternalBillingNote: "closed in bulk"},
		{ID: "UR-2000-01-0000-0000-0000-0000", ExternalBillingID: "BILL-X"},
	})
	if err != nil || len(results) != 3 {
		t.Fatalf("bulk close: %+v, %v", results, err)
	}
	if results[0].Failed() || results[1].Failed() || !results[2].Failed() {
		t.Fatalf("bulk close results %+v: want two closed and the unknown record failed", results)
	}
	f, err = provider.ReprocessFile(c, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tg.emulated(t, "reprocess closes a file whose records are all closed") {
		wantStatus(t, f, usageapi.FileStatusClosed)
	}
}

// testChunks: an accepted file is split into chunks the provider downloads, labels and closes; closing
// the last one closes the file.
func testChunks(t *testing.T, tg *target) {
	provider := tg.needProvider(t)
	c := ctx(t)
	f := tg.acceptedFile(t, "chunks", 2)
	chunks := tg.readyChunks(t, f.ID)
	for _, ch := range chunks {
		if ch.UsageFile == nil || ch.UsageFile.ID != f.ID || ch.Binding == nil || ch.Binding.Hub == nil {
			t.Fatalf("chunk %+v: want its file and hub", ch)
		}
		got, err := provider.GetChunk(c, ch.ID)
		if err != nil || got.ID != ch.ID {
			t.Fatalf("GetChunk(%s) = %+v, %v", ch.ID, got, err)
		}
		if up, err := provider.UpdateChunk(c, ch.ID, "EXT-"+ch.ID); err != nil || up.ExternalID != "EXT-"+ch.ID {
			t.Fatalf("UpdateChunk: %+v, %v", up, err)
		}
		b, err := provider.DownloadChunk(c, ch.ID)
		if err != nil || len(b) == 0 {
			t.Fatalf("DownloadChunk: %d bytes, %v", len(b), err)
		}
		if tg.emu != nil {
			if _, err := provider.RegenerateChunk(c, ch.ID); err != nil {
				t.Fatal(err)
			}
			tg.readyChunks(t, f.ID)
		}
		closed, err := provider.CloseChunk(c, ch.ID, usageapi.CloseChunkRequest{ExternalBillingID: "BATCH-1", ExternalBillingNote: "billed"})
		if err != nil || closed.Status != usageapi.ChunkStatusClosed {
			t.Fatalf("CloseChunk: %+v, %v", closed, err)
		}
	}
	if tg.emulated(t, "closing a closed chunk is refused (400)") {
		_, err := provider.CloseChunk(c, chunks[0].ID, usageapi.CloseChunkRequest{ExternalBillingID: "BATCH-1"})
		if !usageapi.IsBadRequest(err) {
			t.Fatalf("closing a closed chunk: %v, want 400", err)
		}
	}
	f = tg.waitFile(t, f.ID, func(s usageapi.FileStatus) bool { return s == usageapi.FileStatusClosed })
	for _, r := range tg.recordsOf(t, provider, f.ID) {
		if r.Status != usageapi.RecordStatusClosed || r.ExternalBillingID != "BATCH-1" {
			t.Fatalf("record %s after its chunk closed: %s %q", r.ID, r.Status, r.ExternalBillingID)
		}
	}
}

// realChunkWait bounds the wait for chunks on a real Connect: they depend on the provider's hub setup, and
// a target without them must not hold the suite for its whole timeout.
const realChunkWait = 3 * time.Minute

// readyChunks waits until every chunk of a file is ready and returns them. Against a real Connect it skips
// the step when none is ready within realChunkWait.
func (tg *target) readyChunks(t *testing.T, fileID string) []usageapi.Chunk {
	t.Helper()
	c := ctx(t)
	var deadline <-chan time.Time
	if tg.emu == nil {
		deadline = time.After(realChunkWait)
	}
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
		if tg.emu != nil {
			if err := tg.emu.Settle(c); err != nil {
				t.Fatal(err)
			}
		}
		chunks, err := tg.provider.Chunks(usageapi.Eq("usagefile.id", fileID)).Collect(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) > 0 && allReady(chunks) {
			return chunks
		}
		select {
		case <-deadline:
			t.Skipf("real Connect: no ready chunk of %s after %s (chunks come from the provider's hubs): %+v", fileID, realChunkWait, chunks)
		case <-c.Done():
			t.Fatalf("chunks of %s never ready: %v (%+v)", fileID, c.Err(), chunks)
		case <-time.After(wait):
		}
	}
}

func allReady(chunks []usageapi.Chunk) bool {
	for _, ch := range chunks {
		if ch.Status != usageapi.ChunkStatusReady {
			return false
		}
	}
	return true
}

// testReconciliation: the provider uploads billing data for the records of accepted files, through the
// file (POST …/reconciliation) and through the reconciliations collection; the files close.
func testReconciliation(t *testing.T, tg *target) {
	provider := tg.needProvider(t)
	c := ctx(t)
	f := tg.acceptedFile(t, "recon-file", 2)
	if _, err := provider.UploadReconciliation(c, f.ID, "recon.xlsx", bytes.NewReader(tg.reconWorkbook(t, provider, f.ID))); err != nil {
		t.Fatal(err)
	}
	g := tg.acceptedFile(t, "recon-collection", 2)
	made, err := provider.CreateReconciliation(c, "recon.xlsx", bytes.NewReader(tg.reconWorkbook(t, provider, g.ID)), "batch 7")
	if err != nil || made.ID == "" {
		t.Fatalf("CreateReconciliation: %+v, %v", made, err)
	}
	got, err := provider.GetReconciliation(c, made.ID)
	if err != nil || got.ID != made.ID {
		t.Fatalf("GetReconciliation: %+v, %v", got, err)
	}
	if _, err := provider.ReconciliationUploadedFile(c, made.ID); err != nil {
		t.Fatal(err)
	}
	if tg.emu == nil {
		return // the reconciliation workbook format is the emulator's guess; a real Connect may read it otherwise
	}
	for _, id := range []string{f.ID, g.ID} {
		wantStatus(t, tg.waitFile(t, id, func(s usageapi.FileStatus) bool { return s == usageapi.FileStatusClosed }), usageapi.FileStatusClosed)
	}
	recons, err := provider.Reconciliations(usageapi.In("usagefile.id", f.ID, g.ID)).Collect(c)
	if err != nil || len(recons) != 2 {
		t.Fatalf("reconciliations of the two files: %d, %v", len(recons), err)
	}
	for _, r := range recons {
		if r.Status != usageapi.ReconciliationStatusProcessed {
			t.Fatalf("reconciliation %s is %s", r.ID, r.Status)
		}
		if _, err := provider.ReconciliationProcessedFile(c, r.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// reconWorkbook gives every record of a file an external billing id.
func (tg *target) reconWorkbook(t *testing.T, provider *usageapi.Client, fileID string) []byte {
	t.Helper()
	var rows [][]string
	for _, r := range tg.recordsOf(t, provider, fileID) {
		rows = append(rows, []string{r.ID, "INV-" + r.ID, "reconciled"})
	}
	return rawWorkbook(t, []string{"usage_record_id", "external_billing_id", "external_billing_note"}, rows...)
}

// testAggregatesAndCategories reads the usage aggregates of the fixture asset and a file's categories.
func testAggregatesAndCategories(t *testing.T, tg *target) {
	c := ctx(t)
	f := tg.readyFile(t, "aggregates", 2)
	all, err := tg.vendor.Aggregates(usageapi.Eq("asset.id", tg.fx.assetID)).Collect(c)
	if err != nil {
		t.Fatalf("aggregates of %s: %v", tg.fx.assetID, err)
	}
	if tg.emulated(t, "the records of a ready file count in the aggregates") && len(all) == 0 {
		t.Fatalf("no aggregates of %s after a ready file", tg.fx.assetID)
	}
	for _, a := range all {
		if a.Asset == nil || a.Asset.ID != tg.fx.assetID || a.Item == nil || a.Consumed == "" {
			t.Fatalf("aggregate %+v: want the asset, an item and consumed", a)
		}
	}
	byAsset, err := tg.vendor.AssetAggregates(tg.fx.assetID).Collect(c)
	if err != nil || len(byAsset) != len(all) {
		t.Fatalf("asset aggregates: %d, %v; want %d", len(byAsset), err, len(all))
	}
	cats, err := tg.vendor.Categories(f.ID).Collect(c)
	if err != nil || len(cats) == 0 || cats[0].ID == "" {
		t.Fatalf("categories of %s: %+v, %v", f.ID, cats, err)
	}
	if n, err := tg.vendor.Categories(f.ID, usageapi.Eq("id", cats[0].ID)).Count(c); err != nil || n != 1 {
		t.Fatalf("categories filtered by id: %d, %v", n, err)
	}
}

// testRules creates, reads, lists, updates and deletes a usage rule (action manual: it decides nothing).
// The rule expression syntax is not documented: only the emulator gets a free-text rule and a PUT of the
// rule alone; a real Connect gets a rule without expression and a PUT of the whole rule.
func testRules(t *testing.T, tg *target) {
	provider := tg.needProvider(t)
	c := ctx(t)
	create := usageapi.RuleRequest{Action: usageapi.RuleActionManual, Status: usageapi.RuleStatusActive}
	update := create
	if tg.emulated(t, "a free-text rule expression, and a PUT of the expression alone") {
		create.Rule, update = "conformance "+tg.run, usageapi.RuleRequest{Rule: "changed " + tg.run}
	}
	rule, err := provider.CreateRule(c, tg.fx.product, create)
	if err != nil || rule.ID == "" || rule.Action != usageapi.RuleActionManual {
		t.Fatalf("CreateRule: %+v, %v", rule, err)
	}
	t.Cleanup(func() { _ = provider.DeleteRule(context.Background(), tg.fx.product, rule.ID) })
	got, err := provider.GetRule(c, tg.fx.product, rule.ID)
	if err != nil || got.ID != rule.ID {
		t.Fatalf("GetRule: %+v, %v", got, err)
	}
	listed, err := provider.Rules(tg.fx.product, usageapi.Eq("id", rule.ID)).Collect(c)
	if err != nil || len(listed) != 1 {
		t.Fatalf("Rules(eq id): %+v, %v", listed, err)
	}
	up, err := provider.UpdateRule(c, tg.fx.product, rule.ID, update)
	if err != nil || up.Rule != update.Rule || up.Action != usageapi.RuleActionManual {
		t.Fatalf("UpdateRule: %+v, %v", up, err)
	}
	if err := provider.DeleteRule(c, tg.fx.product, rule.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := provider.Rules(tg.fx.product, usageapi.Eq("id", rule.ID), usageapi.Eq("status", "active")).Count(c); err != nil || n != 0 {
		t.Fatalf("an active deleted rule: %d, %v", n, err)
	}
}

// testCloseUnknownRecord closes a record that does not exist with close-records and reads the answer as
// sent: 206, one item with the record's id, an error, and no status outside the spec's enum (Connect's
// enum has no value for a record it does not know: the status is left out). The client counts it failed.
func testCloseUnknownRecord(t *testing.T, tg *target) {
	tg.needProvider(t)
	const unknown = "UR-2000-01-0000-0000-0000-0001"
	body := `[{"id": "` + unknown + `", "external_billing_id": "BILL-UNKNOWN"}]`
	status, answer := tg.rawPOST(t, "/usage/records/close-records", body)
	if status != http.StatusPartialContent {
		t.Fatalf("close-records of an unknown record: %d %s, want 206", status, answer)
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(answer, &items); err != nil || len(items) != 1 {
		t.Fatalf("close-records answer %s: %v, want one item", answer, err)
	}
	var id, st, codes, details string
	for field, dst := range map[string]*string{"id": &id, "status": &st, "error_codes": &codes, "error_details": &details} {
		if raw, ok := items[0][field]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				t.Fatalf("close-records item %s: %s is %s, not a string", answer, field, raw)
			}
		}
	}
	if _, hasStatus := items[0]["status"]; hasStatus && !slices.Contains(recordStatuses, usageapi.RecordStatus(st)) {
		t.Fatalf("close-records item %s: status %q is outside the spec's enum %v", answer, st, recordStatuses)
	}
	if id != unknown || codes == "" && details == "" {
		t.Fatalf("close-records item %s: want id %s and an error", answer, unknown)
	}
	var res []usageapi.CloseRecordResult
	if err := json.Unmarshal(answer, &res); err != nil || !res[0].Failed() {
		t.Fatalf("the client reads %s as %+v (%v), want a failed close", answer, res, err)
	}
}

// recordStatuses is the spec's enum of a record's status (and of a close-records item's).
var recordStatuses = []usageapi.RecordStatus{usageapi.RecordStatusValid, usageapi.RecordStatusInvalid,
	usageapi.RecordStatusApproved, usageapi.RecordStatusRejected, usageapi.RecordStatusClosed}

// rawPOST sends a JSON body with the provider's key outside the client and returns the answer as sent.
func (tg *target) rawPOST(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, strings.TrimSuffix(tg.baseURL, "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+strings.TrimPrefix(tg.provKey, "ApiKey "))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
