package usageapitest_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// TestConformance runs the whole suite against every configured target (see conformance_target_test.go).
func TestConformance(t *testing.T) {
	for name, newTarget := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t)
			steps := []struct {
				name string
				run  func(*testing.T, *target)
			}{
				{"Lifecycle", testLifecycle},
				{"Detail", testDetail},
				{"InvalidWorkbook", testInvalidWorkbook},
				{"OutsidePeriod", testOutsidePeriod},
				{"UploadRefused", testUploadRefused},
				{"IllegalTransitions", testIllegalTransitions},
				{"Unauthorized", testUnauthorized},
				{"ListsAndFilters", testListsAndFilters},
				{"PagingWhileCreating", testPagingWhileCreating},
				{"RecordFilters", testRecordFilters},
				{"UpdateAndDelete", testUpdateAndDelete},
				{"RejectAndReupload", testRejectAndReupload},
				{"RecordOperations", testRecordOperations},
				{"CloseUnknownRecord", testCloseUnknownRecord},
				{"Chunks", testChunks},
				{"Reconciliation", testReconciliation},
				{"AggregatesAndCategories", testAggregatesAndCategories},
				{"Rules", testRules},
				{"Faults", testFaults},
			}
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) { s.run(t, tg) })
			}
		})
	}
}

// testLifecycle walks one file through create → upload → processing → ready → submit → accept → close.
func testLifecycle(t *testing.T, tg *target) {
	f := tg.newFile(t, "lifecycle")
	again, created, err := tg.vendor.FindOrCreateFile(ctx(t), tg.createRequest("lifecycle"))
	if err != nil || created || again.ID != f.ID {
		t.Fatalf("FindOrCreateFile again: %v, created %v, id %s; want the same file %s", err, created, again.ID, f.ID)
	}
	f = tg.upload(t, f.ID, tg.validWorkbook(t, "lifecycle", 3))
	wantStatus(t, f, usageapi.FileStatusReady)
	if f.Records == nil || f.Records.Valid != 3 || f.Records.Invalid != 0 {
		t.Fatalf("records counts %+v, want 3 valid", f.Records)
	}
	if f.Stats == nil || f.Stats.Uploaded != 3 || f.Stats.Validated != 3 {
		t.Fatalf("stats %+v, want 3 uploaded and validated", f.Stats)
	}
	recs := tg.recordsOf(t, tg.vendor, f.ID)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for _, r := range recs {
		if r.Status != usageapi.RecordStatusValid || r.UsageFile == nil || r.UsageFile.ID != f.ID {
			t.Fatalf("record %+v: want valid, of file %s", r, f.ID)
		}
	}
	checkQuantities(t, recs, "1.25", "2.25", "3.25")

	tg.allowSubmit(t)
	f, err = tg.vendor.SubmitFile(ctx(t), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusPending)
	provider := tg.needProvider(t)
	if f, err = provider.AcceptFile(ctx(t), f.ID, "looks right"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusAccepted)
	if f.AcceptanceNote != "looks right" {
		t.Fatalf("acceptance_note %q", f.AcceptanceNote)
	}
	approved := tg.recordsOf(t, provider, f.ID)
	for _, r := range approved {
		if r.Status != usageapi.RecordStatusApproved {
			t.Fatalf("record %s of an accepted file is %s, want approved", r.ID, r.Status)
		}
	}
	tg.billRecords(t, provider, approved, "BILL-"+tg.run+"lifecycle")
	if f, err = provider.CloseFile(ctx(t), f.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusClosed)
	for _, r := range tg.recordsOf(t, provider, f.ID) {
		if r.Status != usageapi.RecordStatusClosed || r.ExternalBillingID != "BILL-"+tg.run+"lifecycle" {
			t.Fatalf("record %s of a closed file is %s with billing id %q", r.ID, r.Status, r.ExternalBillingID)
		}
	}
}

// billRecords closes records with external billing data (bulk close-records): a record cannot be closed,
// nor its file, without it.
func (tg *target) billRecords(t *testing.T, provider *usageapi.Client, recs []usageapi.Record, billingID string) {
	t.Helper()
	reqs := make([]usageapi.CloseRecordRequest, len(recs))
	for i, r := range recs {
		reqs[i] = usageapi.CloseRecordRequest{ID: r.ID, ExternalBillingID: billingID, ExternalBillingNote: "billed by the conformance suite"}
	}
	results, err := provider.CloseRecords(ctx(t), reqs)
	if err != nil || len(results) != len(reqs) {
		t.Fatalf("close-records: %+v, %v", results, err)
	}
	for _, r := range results {
		if r.Failed() {
			t.Fatalf("close-records: record %s failed: %+v", r.ID, r)
		}
	}
}

// checkQuantities compares record usages as exact decimals, in any order.
func checkQuantities(t *testing.T, recs []usageapi.Record, want ...string) {
	t.Helper()
	var got []string
	for _, r := range recs {
		d, err := events.ParseDecimal(r.Usage.String())
		if err != nil {
			t.Fatalf("record %s usage %q: %v", r.ID, r.Usage, err)
		}
		got = append(got, d.String())
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("usages %v, want %v", got, want)
	}
}

// testDetail checks the detail-only links: the uploaded workbook comes back as sent, the processed one
// names the schema as Connect writes it (usage_schema QT) and lists every record as valid, and a record
// can be read by id.
func testDetail(t *testing.T, tg *target) {
	f := tg.newFile(t, "detail")
	if f.UsageFileURI != "" || f.ProcessedFileURI != "" {
		t.Fatalf("draft file has links %q %q", f.UsageFileURI, f.ProcessedFileURI)
	}
	wb := tg.validWorkbook(t, "detail", 2)
	f = tg.upload(t, f.ID, wb)
	wantStatus(t, f, usageapi.FileStatusReady)
	uploaded, err := tg.vendor.Download(ctx(t), f.UsageFileURI)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(uploaded, wb) {
		t.Fatalf("usage_file_uri gives %d bytes, not the %d uploaded", len(uploaded), len(wb))
	}
	processed, err := tg.vendor.Download(ctx(t), f.ProcessedFileURI)
	if err != nil {
		t.Fatal(err)
	}
	if schema, ok := generalAttribute(t, processed, "usage_schema"); !ok || schema != string(tg.fx.schema) {
		t.Fatalf("processed workbook: usage_schema %q (present %v), want %s as Connect writes it", schema, ok, tg.fx.schema)
	}
	p := readWorkbook(t, processed)
	if len(p.Records) != 2 {
		t.Fatalf("processed workbook has %d records, want 2", len(p.Records))
	}
	for _, r := range p.Records {
		if r.Status != "valid" || r.Error != "" {
			t.Fatalf("processed row %d: status %q error %q, want valid", r.Row, r.Status, r.Error)
		}
	}
	recs := tg.recordsOf(t, tg.vendor, f.ID)
	one, err := tg.vendor.GetRecord(ctx(t), recs[0].ID)
	if err != nil || one.ID != recs[0].ID || one.Usage != recs[0].Usage {
		t.Fatalf("GetRecord(%s) = %+v, %v", recs[0].ID, one, err)
	}
	link, err := tg.vendor.ProductTemplateLink(ctx(t), tg.fx.product)
	if err != nil {
		t.Fatal(err)
	}
	template, err := tg.vendor.Download(ctx(t), link)
	if err != nil {
		t.Fatal(err)
	}
	readWorkbook(t, template)
}

// testUnauthorized checks that a wrong key is refused with 401 AUTH_001.
func testUnauthorized(t *testing.T, tg *target) {
	bad := newClient(t, tg.baseURL, "SU-999-999-999:wrong")
	_, err := bad.Files().Collect(ctx(t))
	var apiErr *usageapi.APIError
	if !usageapi.IsUnauthorized(err) || !errors.As(err, &apiErr) || apiErr.Code != "AUTH_001" {
		t.Fatalf("list with a wrong key: %v, want 401 AUTH_001", err)
	}
	if _, err := bad.GetFile(ctx(t), "UF-2026-11-0000-0000"); !usageapi.IsUnauthorized(err) {
		t.Fatalf("get with a wrong key: %v, want 401", err)
	}
}
