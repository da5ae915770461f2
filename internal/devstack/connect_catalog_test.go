package devstack_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

const mappedCatalog = `
products:
  - id: PRD-100-200-300
    name: Cloud Storage
    schema: QT
    currency: EUR
    contracts: [CRD-10001]
    marketplaces: [MP-91673]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 48h
    asset_search: parameter.subscription_id
    items:
      - {mpn: STORAGE-GB-HOURS, name: Storage, unit: GB-hour, type: ppu, precision: decimal(4), aggregation: sum}
      - {mpn: SEATS, name: Seats, unit: seat, type: reservation, precision: integer, aggregation: max, item_search: item.local_id, search_value: seats_local}
      - {mpn: CALLS, name: Calls, unit: call, precision: integer, aggregation: count, item_search: item.global_id, search_value: PRD-100-200-300-0042}
`

// TestConnectCatalogMapsThePipelineCatalog maps a pipeline catalog into the emulator's world: the emulator
// takes it, the pipeline and the mapped world agree (every item found by the pipeline's item search, with
// its precision), and a record of a made-up subscription becomes a valid record (AutoAssets).
func TestConnectCatalogMapsThePipelineCatalog(t *testing.T) {
	pipeline, err := events.ParseCatalog([]byte(mappedCatalog))
	if err != nil {
		t.Fatal(err)
	}
	c := devstack.ConnectCatalog(pipeline)
	if len(c.Contracts) != 1 || c.Contracts[0].ID != "CRD-10001" || c.Contracts[0].Marketplace != "MP-91673" ||
		len(c.Marketplaces) != 1 || c.Marketplaces[0].Currency != "EUR" || len(c.Products) != 1 {
		t.Fatalf("mapped catalog %+v", c)
	}
	items := c.Products[0].Items
	if items[0].MPN != "STORAGE-GB-HOURS" || items[0].Precision != "decimal(4)" || items[1].LocalID != "seats_local" ||
		items[1].Type != "Reservation" || items[2].ID != "PRD-100-200-300-0042" {
		t.Fatalf("mapped items %+v", items)
	}
	s := usageapitest.NewServer(t, connectemu.Options{AutoAssets: true})
	if err := s.Seed(c); err != nil {
		t.Fatalf("the emulator refuses the mapped catalog: %v", err)
	}
	world := devstack.Catalogs{Pipeline: pipeline, Connect: c.Merged(&connectemu.Catalog{Assets: []connectemu.CatalogAsset{
		{ID: "AS-0000-0000-0001", Product: "PRD-100-200-300", Params: map[string]string{"subscription_id": "sub-1"}}}})}
	if err := world.Check(); err != nil {
		t.Fatalf("the pipeline and the mapped world disagree: %v", err)
	}
	recs := uploadOneRecord(t, s, "STORAGE-GB-HOURS", "sub-xyz")
	if len(recs) != 1 || !strings.HasPrefix(recs[0].Asset.ID, "AS-") || recs[0].Status != usageapi.RecordStatusValid {
		t.Fatalf("records of a made-up subscription: %+v", recs)
	}
}

// uploadOneRecord uploads a one-record workbook to a new file of the mapped product and returns the records
// of the file once it is ready.
func uploadOneRecord(t *testing.T, s *usageapitest.Server, mpn, subscription string) []usageapi.Record {
	t.Helper()
	ctx := t.Context()
	f, _, err := s.Client.FindOrCreateFile(ctx, usageapi.CreateFileRequest{ExternalID: "mapped",
		Product: &usageapi.IDRef{ID: "PRD-100-200-300"}, Contract: &usageapi.IDRef{ID: "CRD-10001"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rec := usagefile.Record{RecordID: "r1", ItemSearchCriteria: usagefile.ItemByMPN, ItemSearchValue: mpn,
		Quantity: events.MustDecimal("2"), StartTimeUTC: start, EndTimeUTC: start.Add(time.Hour),
		AssetSearchCriteria: "parameter.subscription_id", AssetSearchValue: subscription, Precision: events.PrecisionDecimal4}
	var wb bytes.Buffer
	if err := usagefile.Write(&wb, usagefile.WriteOptions{Schema: events.SchemaQT}, slices.Values([]usagefile.Record{rec})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.UploadFile(ctx, f.ID, "r.xlsx", &wb); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	done, err := s.Client.WaitFile(ctx, f.ID, usageapi.ProcessingDone, backoff.NewConstantBackOff(time.Millisecond))
	if err != nil || done.Status != usageapi.FileStatusReady {
		t.Fatalf("file after upload: %+v, %v", done, err)
	}
	return s.Records(f.ID)
}
