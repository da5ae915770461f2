package chaos

import (
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// dupWorld builds files of one product, contract and day, and their records.
type dupWorld struct {
	files    []usageapi.File
	contents fileContents
	truth    reconcile.Totals
}

func newDupWorld() *dupWorld {
	return &dupWorld{contents: fileContents{records: map[string][]reconcile.FileRecord{}, unmapped: map[string][]string{}},
		truth: reconcile.Totals{}}
}

func dupKey(asset, period string) reconcile.Key {
	return reconcile.Key{Product: "PRD-1", Contract: "CRD-1", Asset: asset, Item: "CPU", Period: period}
}

// file adds a live file named by external id and description with records "asset@period=quantity".
func (w *dupWorld) file(id, external, description string, status usageapi.FileStatus, records ...string) {
	day := usageapi.Date{Year: 2026, Month: 5, Day: 20}
	w.files = append(w.files, usageapi.File{ID: id, ExternalID: external, Description: description, Status: status,
		Product: &usageapi.Product{ID: "PRD-1"}, Contract: &usageapi.Contract{ID: "CRD-1"},
		Period: &usageapi.Period{From: day, To: day}})
	for _, r := range records {
		key, qty, _ := strings.Cut(r, "=")
		asset, period, _ := strings.Cut(key, "@")
		w.contents.records[id] = append(w.contents.records[id], reconcile.FileRecord{Key: dupKey(asset, period),
			Value: reconcile.Value{Quantity: events.MustDecimal(qty), Records: 1}, Status: usageapi.RecordStatusApproved})
	}
}

func (w *dupWorld) want(asset, period, qty string) {
	w.truth[dupKey(asset, period)] = reconcile.Value{Quantity: events.MustDecimal(qty), Records: 1}
}

func (w *dupWorld) check(t *testing.T, wantDups, wantUnclassified int) {
	t.Helper()
	d := checkDuplicates(w.files, &w.contents, w.truth)
	if len(d.duplicates) != wantDups || len(d.unclassified) != wantUnclassified {
		t.Errorf("want %d duplicates and %d unclassified, have %q and %q", wantDups, wantUnclassified, d.duplicates, d.unclassified)
	}
}

const (
	accepted = usageapi.FileStatusAccepted
	p1       = "20260520T100000Z"
	p2       = "20260520T100004Z"
)

func TestACopyUnderAnotherNameIsADuplicate(t *testing.T) {
	w := newDupWorld()
	w.want("AS-1", p1, "5")
	w.want("AS-2", p1, "2")
	w.file("UF-1", "usagepipe:PRD-1:CRD-1:"+p1+":r0:p1", "usagepipe closed usage", accepted, "AS-1@"+p1+"=5", "AS-2@"+p1+"=2")
	// Same records, another external id and a description nobody can parse: still the same file.
	w.file("UF-2", "usagepipe:PRD-1:CRD-1:"+p1+":r0:p1-retry", "", accepted, "AS-2@"+p1+"=2", "AS-1@"+p1+"=5")
	w.check(t, 1, 0)
}

func TestTheSameExternalIDTwiceIsADuplicateEvenWithoutRecords(t *testing.T) {
	w := newDupWorld()
	w.file("UF-1", "usagepipe:x:r0:p1", "", accepted)
	w.file("UF-2", "usagepipe:x:r0:p1", "", usageapi.FileStatusPending)
	w.file("UF-3", "usagepipe:x:r0:p1", "", usageapi.FileStatusDeleted)
	w.check(t, 1, 0)
}

func TestEqualSupplementsTheTruthNeedsAreNoDuplicates(t *testing.T) {
	w := newDupWorld()
	w.want("AS-1", p1, "3") // a count: 1 closed, then +1 in each of two supplements
	w.file("UF-1", "usagepipe:a:r0:p1", "", accepted, "AS-1@"+p1+"=1")
	w.file("UF-2", "usagepipe:a:r1:p1", "", accepted, "AS-1@"+p1+"=1")
	w.file("UF-3", "usagepipe:a:r2:p1", "", accepted, "AS-1@"+p1+"=1")
	w.check(t, 0, 0)
}

func TestPartsAndPeriodsOfOneDayAreNoDuplicates(t *testing.T) {
	w := newDupWorld()
	w.want("AS-1", p1, "1")
	w.want("AS-1", p2, "1")
	w.file("UF-1", "usagepipe:a:r0:p1", "", accepted, "AS-1@"+p1+"=1")
	w.file("UF-2", "usagepipe:b:r0:p1", "", accepted, "AS-1@"+p2+"=1")
	w.check(t, 0, 0)
}

func TestAFileTheCheckCannotClassifyFails(t *testing.T) {
	w := newDupWorld()
	w.want("AS-1", p1, "1")
	w.file("UF-1", "usagepipe:a:r0:p1", "", accepted, "AS-1@"+p1+"=1")
	w.file("UF-2", "usagepipe:b:r0:p1", "", accepted)
	w.files[1].Period = nil
	w.file("UF-3", "usagepipe:c:r0:p1", "", accepted)
	w.contents.unmapped["UF-3"] = []string{"record UR-9: no catalog item matches"}
	w.check(t, 0, 2)
	if d := checkDuplicates(w.files, nil, w.truth); len(d.unclassified) != 3 || d.count() != 3 {
		t.Errorf("records not read: want every live file unclassified, have %+v", d)
	}
}
