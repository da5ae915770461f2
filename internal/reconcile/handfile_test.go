package reconcile

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// row is one record of a file made by hand: an asset (found by search, the value), an item and a quantity,
// over [from, to] (Connect's inclusive end).
type row struct {
	search, asset, item, qty string
	from, to                 time.Time
}

// dayRow is a row over the whole test day.
func dayRow(search, asset, item, qty string) row {
	return row{search: search, asset: asset, item: item, qty: qty, from: day, to: day.AddDate(0, 0, 1).Add(-time.Second)}
}

// handFile creates, uploads and submits a QT file of the test product as someone other than the submitter
// would, and waits until the emulator's provider has accepted it.
func (w *world) handFile(externalID string, rows ...row) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := usageapi.Date{Year: day.Year(), Month: day.Month(), Day: day.Day()}
	f, err := w.client.CreateFile(ctx, usageapi.CreateFileRequest{Name: externalID, ExternalID: externalID, Currency: "USD",
		Product: &usageapi.IDRef{ID: product}, Contract: &usageapi.IDRef{ID: contract}, Period: &usageapi.Period{From: d, To: d}})
	if err != nil {
		w.t.Fatal(err)
	}
	var recs []usagefile.Record
	for i, r := range rows {
		recs = append(recs, usagefile.Record{RecordID: externalID + "-" + string(rune('a'+i)), ItemSearchCriteria: "item.mpn",
			ItemSearchValue: r.item, Quantity: events.MustDecimal(r.qty), StartTimeUTC: r.from, EndTimeUTC: r.to,
			AssetSearchCriteria: r.search, AssetSearchValue: r.asset, Precision: 4})
	}
	var b bytes.Buffer
	if err := usagefile.Write(&b, usagefile.WriteOptions{Schema: events.SchemaQT}, slices.Values(recs)); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.client.UploadFile(ctx, f.ID, "hand.xlsx", &b); err != nil {
		w.t.Fatal(err)
	}
	if err := w.emu.WaitStatus(ctx, f.ID, usageapi.FileStatusReady); err != nil {
		w.t.Fatalf("%s: %v (%+v)", f.ID, err, w.emu.Records(f.ID))
	}
	if _, err := w.client.SubmitFile(ctx, f.ID); err != nil {
		w.t.Fatal(err)
	}
	if err := w.emu.WaitStatus(ctx, f.ID, usageapi.FileStatusAccepted); err != nil {
		w.t.Fatal(err)
	}
	return f.ID
}
