package usageapitest

import (
	"errors"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func TestParseCatalog(t *testing.T) {
	json := `{"vendor": {"id": "VA-1"}, "marketplaces": [{"id": "MP-1", "currency": "EUR"}],
		"contracts": [{"id": "CRD-1", "marketplace": "MP-1", "provider": {"id": "PA-1"}}],
		"products": [{"id": "PRD-1", "schema": "CR", "items": [{"id": "PRD-1-0001", "mpn": "X", "name": "X", "precision": "decimal(2)"}]}],
		"assets": [{"id": "AS-1", "product": "PRD-1"}]}`
	c, err := ParseCatalog([]byte(json))
	if err != nil || c.Products[0].Items[0].MPN != "X" {
		t.Fatalf("JSON catalog: %+v, %v", c, err)
	}
	bad := map[string]string{
		"unknown field":       `vendor: {id: VA-1, colour: red}`,
		"unknown marketplace": `contracts: [{id: CRD-1, marketplace: MP-9}]`,
		"bad schema":          `products: [{id: PRD-1, schema: XX}]`,
		"bad precision":       `products: [{id: PRD-1, schema: QT, items: [{id: I, name: I, precision: decimal(3)}]}]`,
		"unknown product":     `assets: [{id: AS-1, product: PRD-9}]`,
	}
	for name, text := range bad {
		if _, err := ParseCatalog([]byte(text)); !errors.Is(err, ErrCatalog) {
			t.Errorf("%s: %v, want ErrCatalog", name, err)
		}
	}
}

func TestAddAssetMakesRecordsValid(t *testing.T) {
	s := newTestServer(t, Options{})
	if err := s.AddAsset(CatalogAsset{ID: "AS-0000-0000-0002", Product: "PRD-000-000-001", Params: map[string]string{"subscription_id": "sub-new"}}); err != nil {
		t.Fatal(err)
	}
	id := s.createFile(t, "moved")
	if f := s.upload(t, id, 1); f.Status != usageapi.FileStatusInvalid {
		t.Fatalf("records of sub-0002 after its asset was replaced: %s, want invalid", f.Status)
	}
	if err := s.AddAsset(CatalogAsset{ID: "AS-0000-0000-0009", Product: "PRD-000-000-001", Params: map[string]string{"subscription_id": "sub-0002"}}); err != nil {
		t.Fatal(err)
	}
	if f := s.upload(t, id, 1); f.Status != usageapi.FileStatusReady || s.Records(id)[0].Asset.ID != "AS-0000-0000-0009" {
		t.Fatalf("after AddAsset: %s", f.Status)
	}
	if err := s.Seed(&Catalog{Assets: []CatalogAsset{{ID: "AS-X", Product: "PRD-nope"}}}); !errors.Is(err, ErrCatalog) {
		t.Fatalf("seeding a bad asset: %v", err)
	}
}

func TestScaled(t *testing.T) {
	tests := []struct {
		in     string
		places int
		want   string
	}{{"1.5", 4, "15000"}, {"12", 0, "12"}, {"-0.25", 2, "-25"}, {"0", 8, "0"}, {"1.23456", 2, "123.456"}}
	for _, tt := range tests {
		if got := scaled(events.MustDecimal(tt.in), tt.places); got != tt.want {
			t.Errorf("scaled(%s, %d) = %s, want %s", tt.in, tt.places, got, tt.want)
		}
	}
}
