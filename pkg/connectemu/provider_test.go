package connectemu

import (
	"testing"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// submitted creates, uploads and submits a file, then lets the background work settle.
func (s *testServer) submitted(t *testing.T, externalID string) usageapi.FileDetail {
	t.Helper()
	id := s.createFile(t, externalID)
	s.upload(t, id, 2)
	decode[usageapi.FileDetail](t, s.json(t, "POST", "/public/v1/usage/files/"+id+"/submit", map[string]any{}), 200)
	if err := s.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	f, _ := s.File(id)
	return f
}

func TestProviderAutoAccepts(t *testing.T) {
	s := newTestServer(t, Options{Provider: ProviderPolicy{Auto: true}})
	f := s.submitted(t, "auto")
	if f.Status != usageapi.FileStatusAccepted || f.AcceptanceNote != noteAutoApproved || f.Events.Accepted.By != nil {
		t.Fatalf("auto provider: %s %q by %+v", f.Status, f.AcceptanceNote, f.Events.Accepted.By)
	}
	chunks := decode[[]usageapi.Chunk](t, s.do(t, "GET", "/public/v1/usage/chunks?usagefile.id="+f.ID, "", nil), 200)
	if len(chunks) != 1 || chunks[0].Status != usageapi.ChunkStatusReady || chunks[0].Binding.Hub.ID != "HB-0000-0001" {
		t.Fatalf("chunks of an accepted file: %+v", chunks)
	}
}

func TestProviderRejectsShare(t *testing.T) {
	s := newTestServer(t, Options{Provider: ProviderPolicy{Auto: true, RejectShare: 1, RejectNote: "not this month"}})
	f := s.submitted(t, "rejected")
	if f.Status != usageapi.FileStatusRejected || f.RejectionNote != "not this month" {
		t.Fatalf("reject share 1: %s %q", f.Status, f.RejectionNote)
	}
	if shareHit("UF-2026-11-0000-0001", 0) || !shareHit("UF-2026-11-0000-0001", 1) {
		t.Fatal("shareHit bounds")
	}
}

func TestManualProviderLeavesPending(t *testing.T) {
	s := newTestServer(t, Options{})
	f := s.submitted(t, "manual")
	if f.Status != usageapi.FileStatusPending {
		t.Fatalf("manual provider: %s", f.Status)
	}
	if err := s.Reject(f.ID, "by hand"); err != nil {
		t.Fatal(err)
	}
	if err := s.Accept(f.ID, ""); err == nil {
		t.Fatal("accepting a rejected file succeeded")
	}
}

func TestUsageRuleDecides(t *testing.T) {
	s := newTestServer(t, Options{Provider: ProviderPolicy{Auto: true}})
	decode[usageapi.Rule](t, s.json(t, "POST", "/public/v1/products/PRD-000-000-001/usage/rules",
		usageapi.RuleRequest{Action: usageapi.RuleActionReject, Item: &usageapi.IDRef{ID: "PRD-000-000-001-0001"}}), 201)
	if f := s.submitted(t, "ruled"); f.Status != usageapi.FileStatusRejected || f.RejectionNote != noteAutoRejected {
		t.Fatalf("reject rule: %s %q", f.Status, f.RejectionNote)
	}
	bad := decode[usageapi.ErrorBody](t, s.json(t, "POST", "/public/v1/products/PRD-000-000-001/usage/rules",
		usageapi.RuleRequest{Action: "maybe"}), 400)
	if bad.ErrorCode != CodeValidation {
		t.Fatalf("bad action: %+v", bad)
	}
}

func TestChangedAndSettle(t *testing.T) {
	s := newTestServer(t, Options{})
	ch := s.Changed()
	s.createFile(t, "changed")
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by a change")
	}
	if err := s.CloseFile("UF-2000-01-0000-0000"); err == nil {
		t.Fatal("closing an unknown file succeeded")
	}
	if err := s.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestCloseNeedsBillingData: a file closes only once its approved records have external billing data; a
// record closes only with some.
func TestCloseNeedsBillingData(t *testing.T) {
	s := newTestServer(t, Options{})
	f := s.submitted(t, "billing")
	if err := s.Accept(f.ID, ""); err != nil {
		t.Fatal(err)
	}
	refused := decode[usageapi.ErrorBody](t, s.json(t, "POST", "/public/v1/usage/files/"+f.ID+"/close", map[string]any{}), 400)
	if refused.ErrorCode != CodeTransition {
		t.Fatalf("closing a file with unbilled records: %+v", refused)
	}
	recs := s.Records(f.ID)
	bare := decode[usageapi.ErrorBody](t, s.json(t, "POST", "/public/v1/usage/records/"+recs[0].ID+"/close", map[string]any{}), 400)
	if bare.ErrorCode != CodeValidation {
		t.Fatalf("closing a record without billing data: %+v", bare)
	}
	var bulk []usageapi.CloseRecordRequest
	for _, r := range recs {
		bulk = append(bulk, usageapi.CloseRecordRequest{ID: r.ID, ExternalBillingID: "INV-" + r.ID})
	}
	decode[[]usageapi.CloseRecordResult](t, s.json(t, "POST", "/public/v1/usage/records/close-records", bulk), 206)
	closed := decode[usageapi.FileDetail](t, s.json(t, "POST", "/public/v1/usage/files/"+f.ID+"/close", map[string]any{}), 200)
	if closed.Status != usageapi.FileStatusClosed {
		t.Fatalf("after billing: %s", closed.Status)
	}
	for _, r := range s.Records(f.ID) {
		if r.Status != usageapi.RecordStatusClosed || r.ExternalBillingID != "INV-"+r.ID {
			t.Fatalf("record %s: %s %q", r.ID, r.Status, r.ExternalBillingID)
		}
	}
	g := s.submitted(t, "billing-go")
	if err := s.Accept(g.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseFile(g.ID); err != nil {
		t.Fatalf("Go CloseFile: %v", err)
	}
	if r := s.Records(g.ID)[0]; r.Status != usageapi.RecordStatusClosed || r.ExternalBillingNote != noteEmulatorBilled {
		t.Fatalf("Go CloseFile left record %+v", r)
	}
}
