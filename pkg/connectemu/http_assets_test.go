package connectemu

import (
	"net/http"
	"slices"
	"testing"
)

// TestAssetsAreAddedOverHTTP: POST /emulator/assets makes assets exist (records of them become valid), and a
// bad asset is refused with 400.
func TestAssetsAreAddedOverHTTP(t *testing.T) {
	s := newTestServer(t, Options{})
	r := s.do(t, "POST", "/public/v1/emulator/assets", "application/json", []byte(`[{"id":"AS-9000-0000-0001","product":"PRD-000-000-001"}]`))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !slices.ContainsFunc(s.Catalog().Assets, func(a CatalogAsset) bool { return a.ID == "AS-9000-0000-0001" }) {
		t.Fatal("the asset is not in the catalog")
	}
	if r := s.do(t, "POST", "/public/v1/emulator/assets", "application/json", []byte(`[{"id":"AS-9000-0000-0002","product":"PRD-NONE"}]`)); r.status != http.StatusBadRequest {
		t.Errorf("an asset of an unknown product: status %d: %s", r.status, r.body)
	}
}
