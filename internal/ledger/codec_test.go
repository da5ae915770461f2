package ledger

import (
	"reflect"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// sampleEntry is an entry with every field set.
func sampleEntry() *Entry {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	id := FileID{Product: "PRD-1", Contract: "CRD-1", PeriodStart: t0, Revision: 1, Part: 2}
	return &Entry{Key: id.Key(), Product: id.Product, Contract: id.Contract, PeriodStart: t0, PeriodEnd: t0.AddDate(0, 0, 1),
		Revision: 1, Part: 2, Parts: 3, Limit: 10, FromSeq: 4, ToSeq: 9, Records: 10, Digest: "d1",
		Spec: FileSpec{ProductName: "Cloud", Schema: events.SchemaQT, Currency: "USD", AssetSearch: "asset.id", TimeZone: "Europe/Madrid",
			Items: map[string]ItemSpec{"CPU": {Criteria: "item.mpn", Value: "CPU", Precision: events.PrecisionDecimal8}}},
		ExternalID: id.ExternalID(), Name: "Cloud 2026-11-25", ClosedAt: t0.Add(25 * time.Hour), PlannedAt: t0.Add(26 * time.Hour),
		Links: []string{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, State: StateRepairing, FileID: "UF-1",
		Status: "invalid", Excluded: []string{"r1"}, Excluding: &Exclusion{Reason: "connect_invalid", Records: map[string]string{"r2": "bad"}},
		InvalidUploadAt: t0.Add(27 * time.Hour), Uploads: 2, Attempts: 1, Polls: 3, Relists: 2, NextAt: t0.Add(28 * time.Hour),
		LastError: "boom", Reason: "why", Note: "note", History: []Transition{{State: StatePlanned, At: t0}, {State: StateRepairing, At: t0, Note: "n"}},
		Owner: "member-1", LeaseUntil: t0.Add(29 * time.Hour), Reupload: &Reupload{Status: "rejected", At: t0.Add(30 * time.Hour)},
		Attempt: 2, PreviousFiles: []PreviousFile{{FileID: "UF-0", ExternalID: id.ExternalID(), Status: "deleted", Until: t0}}}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	e := sampleEntry()
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, e)
	}
	if _, err := Decode([]byte(`{"state": 3}`)); err == nil {
		t.Error("a malformed entry decoded")
	}
}

// TestEntryStoredFormGolden pins the stored form (the reconciliation and operator commands read it, and a
// running ledger holds it): field names, zero fields left out, times in RFC 3339.
func TestEntryStoredFormGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	e := &Entry{Key: "file.P.C.20261125T000000Z.r0.p1", Product: "P", Contract: "C", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 0, 1),
		Part: 1, Parts: 1, Limit: 5, Records: 2, Digest: "d", Spec: FileSpec{ProductName: "N", Schema: events.SchemaQT, Currency: "USD",
			AssetSearch: "asset.id", Items: map[string]ItemSpec{"I": {Criteria: "item.mpn", Value: "I", Precision: events.PrecisionInteger}}},
		ExternalID: "usagepipe:P:C:20261125T000000Z:r0:p1", Name: "N", ClosedAt: t0, PlannedAt: t0, State: StatePlanned,
		History: []Transition{{State: StatePlanned, At: t0}}}
	want := `{"key":"file.P.C.20261125T000000Z.r0.p1","product":"P","contract":"C","period_start":"2026-11-25T00:00:00Z",` +
		`"period_end":"2026-11-26T00:00:00Z","revision":0,"part":1,"parts":1,"limit":5,"records":2,"digest":"d",` +
		`"spec":{"product_name":"N","schema":"QT","currency":"USD","asset_search":"asset.id","items":{"I":{"criteria":"item.mpn","value":"I","precision":"integer"}}},` +
		`"external_id":"usagepipe:P:C:20261125T000000Z:r0:p1","name":"N","closed_at":"2026-11-25T00:00:00Z","planned_at":"2026-11-25T00:00:00Z",` +
		`"state":"planned","history":[{"state":"planned","at":"2026-11-25T00:00:00Z"}]}`
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("stored form\n%s\nwant\n%s", b, want)
	}
}
