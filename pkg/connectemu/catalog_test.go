package connectemu

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
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

// TestAutoAssets uploads a record naming a subscription the catalog does not know: with AutoAssets the
// emulator makes up its asset (and keeps it in the catalog) instead of marking the record invalid.
func TestAutoAssets(t *testing.T) {
	c, err := ParseCatalog([]byte(`
vendor: {id: VA-000-001}
marketplaces: [{id: MP-91673, currency: EUR, hubs: [{id: HB-0000-0001}]}]
contracts: [{id: CRD-10001, marketplace: MP-91673, provider: {id: PA-000-001}, environment: production}]
products:
  - id: PRD-100-200-300
    schema: QT
    items: [{id: PRD-100-200-300-0001, mpn: STORAGE-GB-HOURS, name: Storage, unit: GB-hour, precision: decimal(4), type: PPU}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{Catalog: c, AutoAssets: true})
	r := s.json(t, "POST", "/public/v1/usage/files", usageapi.CreateFileRequest{ExternalID: "auto",
		Product: &usageapi.IDRef{ID: "PRD-100-200-300"}, Contract: &usageapi.IDRef{ID: "CRD-10001"}})
	id := decode[usageapi.FileCreated](t, r, 201).ID
	body, ctype := multipartBody(t, "usage_file", rawRecords(t, "STORAGE-GB-HOURS", "parameter.subscription_id", "sub-xyz"))
	decode[usageapi.FileDetail](t, s.do(t, "POST", "/public/v1/usage/files/"+id+"/upload", ctype, body), 200)
	if err := s.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := s.Records(id)
	if f, _ := s.File(id); f.Status != usageapi.FileStatusReady || len(recs) != 1 || !strings.HasPrefix(recs[0].Asset.ID, "AS-") {
		t.Fatalf("auto asset: %s %+v", f.Status, recs)
	}
	if a, err := s.Catalog().asset("PRD-100-200-300", "parameter.subscription_id", "sub-xyz"); err != nil || a.ID != recs[0].Asset.ID {
		t.Fatalf("the made-up asset is not in the catalog: %v", err)
	}
}

// rawRecords is a one-record QT workbook for an item MPN and asset criteria.
func rawRecords(t *testing.T, mpn, criteria, value string) []byte {
	t.Helper()
	var buf bytes.Buffer
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rec := usagefile.Record{RecordID: "r1", ItemSearchCriteria: usagefile.ItemByMPN, ItemSearchValue: mpn,
		Quantity: events.MustDecimal("2"), StartTimeUTC: start, EndTimeUTC: start.Add(time.Hour),
		AssetSearchCriteria: criteria, AssetSearchValue: value, Precision: events.PrecisionDecimal4}
	if err := usagefile.Write(&buf, usagefile.WriteOptions{Schema: events.SchemaQT}, slices.Values([]usagefile.Record{rec})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
