package aggregator

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// richCatalog uses every catalog field the recorded form must carry.
const richCatalog = `products:
  - id: PRD-100-200-300
    name: Transcoding
    schema: CR
    currency: EUR
    contracts: [CRD-00001-00001-00001, CRD-00001-00001-00002]
    marketplaces: [MP-12345]
    time_zone: Europe/Madrid
    period: {kind: monthly_cutoff, cutoff_day: 5}
    allowed_lateness: 90m
    asset_search: parameter.subscription_id
    items:
      - {mpn: MIN, name: Minutes, unit: minute, precision: decimal(4), aggregation: sum, allow_negative: true}
      - {mpn: CH, name: Channels, unit: channel, type: reservation, precision: integer, aggregation: last,
         item_search: item.local_id, search_value: CHANNELS}
      - {mpn: USERS, name: Users, unit: user, precision: integer, aggregation: unique_count, unique_attribute: user}
  - id: PRD-100-200-301
    name: Fixed
    schema: QT
    currency: USD
    contracts: [CRD-00001-00001-00003]
    period: {kind: fixed, every: 90s}
    max_event_age: 48h
    items:
      - {mpn: N, name: N, unit: unit, precision: decimal(8), aggregation: max}
`

// TestFoldConfigRoundTrip checks that a fold configuration reads back to the same catalog and digest, that
// each of its parts changes the digest, and that stored bytes that do not match their digest are refused.
func TestFoldConfigRoundTrip(t *testing.T) {
	cat := parseCatalog(t, richCatalog)
	markFrom := time.Date(2026, 11, 3, 10, 4, 5, 123456789, time.FixedZone("x", 3600))
	fc, err := newFoldConfig(cat, 16, 24*time.Hour, markFrom)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeFoldConfig(fc.digest, fc.data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := newFoldConfig(back.catalog, 16, 24*time.Hour, back.doc.MarkFrom)
	if err != nil || again.digest != fc.digest {
		t.Fatalf("re-encoding the decoded configuration: digest %s, want %s (%v)", again.digest, fc.digest, err)
	}
	if !catalogsEqual(cat.Products, back.catalog) || !back.forPartition(3).MarkFrom.Equal(markFrom) {
		t.Fatalf("decoded configuration differs: %+v", back.forPartition(3))
	}
	changed := []func() (*foldConfig, error){
		func() (*foldConfig, error) { return newFoldConfig(cat, 8, 24*time.Hour, markFrom) },
		func() (*foldConfig, error) { return newFoldConfig(cat, 16, time.Hour, markFrom) },
		func() (*foldConfig, error) { return newFoldConfig(cat, 16, 24*time.Hour, markFrom.Add(time.Second)) },
		func() (*foldConfig, error) {
			return newFoldConfig(parseCatalog(t, catalogWithX), 16, 24*time.Hour, markFrom)
		},
	}
	for i, build := range changed {
		if other, err := build(); err != nil || other.digest == fc.digest {
			t.Errorf("change %d: digest %s unchanged (%v)", i, fc.digest, err)
		}
	}
	tampered := slices.Clone(fc.data)
	tampered[len(tampered)-3] ^= 1
	if _, err := decodeFoldConfig(fc.digest, tampered); err == nil {
		t.Error("tampered configuration accepted")
	}
	if _, err := decodeFoldConfig(fc.digest[1:]+"0", fc.data); !errors.Is(err, errFoldConfigDigest) {
		t.Errorf("configuration under another digest: want errFoldConfigDigest, have %v", err)
	}
}

// catalogsEqual compares products field by field (locations by name: each load makes its own).
func catalogsEqual(want []events.Product, got *events.Catalog) bool {
	if len(want) != len(got.Products) {
		return false
	}
	for i := range want {
		a, b := want[i], got.Products[i]
		if a.Location.String() != b.Location.String() || a.Period.Location.String() != b.Period.Location.String() {
			return false
		}
		a.Location, b.Location, a.Period.Location, b.Period.Location = nil, nil, nil, nil
		if !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

func TestFoldSteps(t *testing.T) {
	recs := []progress{
		{From: 3, To: 5, Config: "a"}, {From: 7, To: 9, Config: "a"}, {From: 10, To: 12},
		{From: 14, To: 20, Config: "b", Part: 1, Parts: 2}, {From: 14, To: 20, Config: "b", Part: 2, Parts: 2},
		{From: 21, To: 22, Config: "a"},
	}
	want := []foldStep{{after: 13, digest: "b"}, {after: 20, digest: "a"}}
	if got := foldSteps(recs, "a"); !reflect.DeepEqual(got, want) {
		t.Errorf("steps from a: %+v, want %+v", got, want)
	}
	want = append([]foldStep{{after: 2, digest: "a"}}, want...)
	if got := foldSteps(recs, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("steps from an unrecorded configuration: %+v, want %+v", got, want)
	}
	if !historyCovers([]progress{{After: 5}}, 5) || historyCovers([]progress{{After: 6}}, 5) || historyCovers(nil, 5) {
		t.Error("historyCovers: records must continue from the snapshot or before")
	}
	if !historyCovers(recs, 2) {
		t.Error("historyCovers: records that predate After continue from anywhere")
	}
}

func TestSnapshotNames(t *testing.T) {
	for _, ref := range []snapshotRef{{seq: 42, digest: "0123abcd"}, {seq: 7}} {
		got, ok := parseSnapshotName(12, ref.name(12))
		if !ok || got != ref {
			t.Errorf("%s: parsed %+v %v", ref.name(12), got, ok)
		}
		if _, ok := parseSnapshotName(1, ref.name(12)); ok {
			t.Errorf("%s read as a snapshot of partition 1", ref.name(12))
		}
	}
}
