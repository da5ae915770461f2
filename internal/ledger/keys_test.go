package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestFileIdentity(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	id := FileID{Product: "PRD-100-200-300", Contract: "CRD-10001", PeriodStart: start, Revision: 2, Part: 3}
	if got, want := id.Key(), "file.PRD-100-200-300.CRD-10001.20261101T000000Z.r2.p3"; got != want {
		t.Errorf("key: got %q, want %q", got, want)
	}
	if got, want := id.ExternalID(), "usagepipe:PRD-100-200-300:CRD-10001:20261101T000000Z:r2:p3"; got != want {
		t.Errorf("external id: got %q, want %q", got, want)
	}
	odd := FileID{Product: "PRD with spaces/and.dots", Contract: strings.Repeat("C", 300), PeriodStart: start}
	if k := odd.Key(); strings.ContainsAny(k, " /") || strings.Count(k, ".") != 5 {
		t.Errorf("key of odd ids is not a valid KV key: %q", k)
	}
	if x := odd.ExternalID(); len(x) > maxExternalID || !strings.HasPrefix(x, ExternalIDPrefix) || x != odd.ExternalID() {
		t.Errorf("long external id: %q", x)
	}
}

// TestKeyLayoutGolden spells out every key and prefix of the ledger: a change of the layout strands every
// entry already stored, and must show up here.
func TestKeyLayoutGolden(t *testing.T) {
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.FixedZone("CET", 3600)) // keys use UTC
	id := FileID{Product: "PRD-100-200-300", Contract: "CRD-10001", PeriodStart: start, Revision: 1, Part: 2}
	odd := FileID{Product: "PRD with spaces/and.dots", Contract: "CRD-1", PeriodStart: start, Revision: 0, Part: 1}
	enc := events.SubjectToken(odd.Product)
	for _, tc := range []struct{ got, want string }{
		{FilesPrefix, "file."},
		{SupplementIndexesPrefix, "supp."},
		{ParkedPrefix, "parked."},
		{ExternalIDPrefix, "usagepipe:"},
		{id.Key(), "file.PRD-100-200-300.CRD-10001.20261124T230000Z.r1.p2"},
		{PeriodPrefix(id.Product, id.Contract, start), "file.PRD-100-200-300.CRD-10001.20261124T230000Z."},
		{RevisionPrefix(id), "file.PRD-100-200-300.CRD-10001.20261124T230000Z.r1."},
		{SupplementIndexKey(id.Product, id.Contract, start), "supp.PRD-100-200-300.CRD-10001.20261124T230000Z"},
		{ParkedKey(id), "parked.PRD-100-200-300.CRD-10001.20261124T230000Z.r1"},
		{id.ExternalID(), "usagepipe:PRD-100-200-300:CRD-10001:20261124T230000Z:r1:p2"},
		{odd.Key(), "file." + enc + ".CRD-1.20261124T230000Z.r0.p1"},
		{odd.ExternalID(), "usagepipe:PRD with spaces/and.dots:CRD-1:20261124T230000Z:r0:p1"},
		{id.ExternalIDAttempt(1), "usagepipe:PRD-100-200-300:CRD-10001:20261124T230000Z:r1:p2"},
		{id.ExternalIDAttempt(3), "usagepipe:PRD-100-200-300:CRD-10001:20261124T230000Z:r1:p2:a3"},
		{ActionsPrefix, "ops."},
		{ReplaysPrefix, "replay."},
		{ReplayedPrefix, "replayed."},
		{ActionsKey(id.Product, id.Contract, start), "ops.PRD-100-200-300.CRD-10001.20261124T230000Z"},
		{ReplayKey("agg-12-0"), "replay.agg-12-0"},
		{ReplayedEventKey("/meters/eu-1", "e-1"), "replayed.ev.5affdb165f3d8ad508a91ea3104aac2af66e1237"},
		{ReplayedRecordKey("834e7b0ccd6c6eb90572343b7fd3a27690a69c4d"), "replayed.rec.834e7b0ccd6c6eb90572343b7fd3a27690a69c4d"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestRevisionPrefixesDoNotOverlap: revision 1's prefix must not take in revision 10's keys.
func TestRevisionPrefixesDoNotOverlap(t *testing.T) {
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r1 := FileID{Product: "P", Contract: "C", PeriodStart: start, Revision: 1, Part: 1}
	r10 := r1
	r10.Revision = 10
	if strings.HasPrefix(r10.Key(), RevisionPrefix(r1)) || !strings.HasPrefix(r1.Key(), RevisionPrefix(r1)) {
		t.Errorf("revision prefix %q against keys %q, %q", RevisionPrefix(r1), r1.Key(), r10.Key())
	}
	if !strings.HasPrefix(r10.Key(), PeriodPrefix("P", "C", start)) || !strings.HasPrefix(r10.Key(), FilesPrefix) {
		t.Errorf("period prefix %q does not hold %q", PeriodPrefix("P", "C", start), r10.Key())
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	id := FileID{Product: "PRD-100-200-300", Contract: "CRD-10001", PeriodStart: start, Revision: 12, Part: 3}
	for _, tc := range []struct {
		key  string
		kind KeyKind
		want FileID
	}{
		{id.Key(), KindFile, id},
		{ParkedKey(id), KindParked, FileID{Product: id.Product, Contract: id.Contract, PeriodStart: start, Revision: 12}},
		{SupplementIndexKey(id.Product, id.Contract, start), KindSupplementIndex, FileID{Product: id.Product, Contract: id.Contract, PeriodStart: start}},
	} {
		kind, got, err := ParseKey(tc.key)
		if err != nil || kind != tc.kind || got != tc.want {
			t.Errorf("ParseKey(%q) = %s %+v %v; want %s %+v", tc.key, kind, got, err, tc.kind, tc.want)
		}
	}
	_, got, err := ParseKey(FileID{Product: "PRD with spaces", Contract: "C", PeriodStart: start, Part: 1}.Key())
	if err != nil || got.Product != events.SubjectToken("PRD with spaces") {
		t.Errorf("encoded product: %+v %v", got, err)
	}
}

func TestParseKeyRefusesOtherKeys(t *testing.T) {
	for _, bad := range []string{
		"", "file.", "file.P.C.20261125T000000Z.r1", "file.P.C.20261125T000000Z.r1.p0", "file.P.C.20261125T000000Z.r01.p1",
		"file.P.C.20261125T000000Z.1.p1", "file.P.C.2026-11-25.r1.p1", "file..C.20261125T000000Z.r1.p1",
		"supp.P.C.20261125T000000Z.r1", "parked.P.C.20261125T000000Z", "lease.1", "parked.P.C.20261125T000000Z.r-1",
	} {
		if kind, id, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) = %s %+v, want an error", bad, kind, id)
		}
	}
}

func TestParseExternalID(t *testing.T) {
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	id := FileID{Product: "PRD-1", Contract: "CRD-1", PeriodStart: start, Revision: 2, Part: 1}
	for _, x := range []string{id.ExternalID(), id.ExternalIDAttempt(2), id.ExternalIDAttempt(17)} {
		if got, ok := ParseExternalID(x); !ok || got != id {
			t.Errorf("ParseExternalID(%q) = %+v %v", x, got, ok)
		}
	}
	for _, bad := range []string{id.ExternalID() + ":a1", id.ExternalID() + ":a02", id.ExternalID() + ":b2", id.ExternalID() + ":a2:a3"} {
		if got, ok := ParseExternalID(bad); ok {
			t.Errorf("ParseExternalID(%q) = %+v, want none", bad, got)
		}
	}
	long := FileID{Product: strings.Repeat("P", 300), Contract: "C", PeriodStart: start, Part: 1}
	for _, bad := range []string{long.ExternalID(), "usagepipe:PRD-1:CRD-1:20261125T000000Z:r2", "other:PRD-1:CRD-1:20261125T000000Z:r2:p1",
		"usagepipe:PRD-1:CRD-1:20261125T000000Z:r02:p1", "usagepipe:PRD-1:CRD-1:20261125T000000Z:2:1"} {
		if got, ok := ParseExternalID(bad); ok {
			t.Errorf("ParseExternalID(%q) = %+v, want none", bad, got)
		}
	}
}
