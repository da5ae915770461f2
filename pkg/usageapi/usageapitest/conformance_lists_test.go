package usageapitest_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// testListsAndFilters pages across pages and checks the RQL filters on usage files: eq, ne, in, out, like
// (case-sensitive), ilike, and, or, not, ordering, offset and count.
func testListsAndFilters(t *testing.T, tg *target) {
	c := ctx(t)
	var ids []string
	for i := range 5 {
		name := fmt.Sprintf("list-%d", i)
		if i < 2 {
			ids = append(ids, tg.readyFile(t, name, 1).ID)
		} else {
			ids = append(ids, tg.newFile(t, name).ID)
		}
	}
	mine := usageapi.ILike("external_id", tg.run+"list-*")
	count := func(terms ...usageapi.Term) int {
		t.Helper()
		n, err := tg.vendor.Files(terms...).Count(c)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	paged, err := tg.vendor.Files(mine, usageapi.Limit(2)).Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	got := fileIDs(paged)
	if slices.Sort(got); !slices.Equal(got, sorted(ids)) {
		t.Fatalf("paging by 2 gave %v, want %v", got, sorted(ids))
	}
	checks := []struct {
		name string
		term usageapi.Term
		want int
	}{
		{"ilike", mine, 5},
		{"like, case-sensitive", usageapi.Like("external_id", strings.ToUpper(tg.run)+"LIST-*"), 0},
		{"like", usageapi.Like("external_id", tg.run+"list-*"), 5},
		{"eq", usageapi.Eq("external_id", tg.run+"list-3"), 1},
		{"in", usageapi.In("external_id", tg.run+"list-0", tg.run+"list-4", tg.run+"nothing"), 2},
		{"and eq status", usageapi.And(mine, usageapi.Eq("status", "ready")), 2},
		{"and ne status", usageapi.And(mine, usageapi.Ne("status", "ready")), 3},
		{"out", usageapi.And(mine, usageapi.Out("status", "draft")), 2},
		{"or", usageapi.Or(usageapi.Eq("external_id", tg.run+"list-1"), usageapi.Eq("external_id", tg.run+"list-2")), 2},
		{"not", usageapi.And(mine, usageapi.Not(usageapi.Eq("status", "draft"))), 2},
		{"id", usageapi.Eq("id", ids[2]), 1},
		{"product and contract", usageapi.And(mine, usageapi.Eq("product.id", tg.fx.product), usageapi.Eq("contract.id", tg.fx.contract)), 5},
	}
	for _, ch := range checks {
		if n := count(ch.term); n != ch.want {
			t.Errorf("%s: count %d, want %d", ch.name, n, ch.want)
		}
	}
	// external_id is not orderable on /usage/files (the spec marks which fields are); created.at and id are.
	byCreation := creationOrder(paged)
	ordered, err := tg.vendor.Files(mine, usageapi.Ordering("-created.at", "-id")).Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileIDs(ordered); !slices.Equal(got, reversed(byCreation)) {
		t.Fatalf("ordering(-created.at,-id) gave %v, want %v", got, reversed(byCreation))
	}
	tail, err := tg.vendor.Files(mine, usageapi.Ordering("created.at", "id"), usageapi.Limit(2), usageapi.Offset(3)).Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileIDs(tail); !slices.Equal(got, byCreation[3:]) {
		t.Fatalf("offset 3 gave %v, want %v", got, byCreation[3:])
	}
}

// creationOrder returns the ids of files by events.created.at, then id.
func creationOrder(files []usageapi.File) []string {
	sortedFiles := slices.SortedFunc(slices.Values(files), func(a, b usageapi.File) int {
		return cmp.Or(createdAt(a).Compare(createdAt(b)), cmp.Compare(a.ID, b.ID))
	})
	return fileIDs(sortedFiles)
}

func createdAt(f usageapi.File) time.Time {
	if f.Events == nil || f.Events.Created == nil {
		return time.Time{}
	}
	return f.Events.Created.At
}

// testPagingWhileCreating pages through files while more are created between two pages: each file is
// listed once, none skipped (the client orders by created.at,id when the caller does not order).
func testPagingWhileCreating(t *testing.T, tg *target) {
	var before []string
	for i := range 5 {
		before = append(before, tg.newFile(t, fmt.Sprintf("paging-%d", i)).ID)
	}
	seen := map[string]int{}
	n := 0
	for f, err := range tg.vendor.Files(usageapi.ILike("external_id", tg.run+"paging-*"), usageapi.Limit(2)).All(ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[f.ID]++; seen[f.ID] > 1 {
			t.Fatalf("file %s listed twice", f.ID)
		}
		if n++; n == 2 { // the first page is read: more files come
			for i := range 3 {
				tg.newFile(t, fmt.Sprintf("paging-late-%d", i))
			}
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Fatalf("file %s was skipped (listed %v)", id, seen)
		}
	}
}

// testRecordFilters pages through records and filters them by file, asset, item and status.
func testRecordFilters(t *testing.T, tg *target) {
	c := ctx(t)
	f := tg.readyFile(t, "record-filters", 5)
	ofFile := usageapi.Eq("usagefile.id", f.ID)
	paged, err := tg.vendor.Records(ofFile, usageapi.Limit(2)).Collect(c)
	if err != nil || len(paged) != 5 {
		t.Fatalf("records paged by 2: %d, %v; want 5", len(paged), err)
	}
	if ids := recordIDs(paged); len(slices.Compact(sorted(ids))) != 5 {
		t.Fatalf("paging repeated records: %v", ids)
	}
	checks := []struct {
		name string
		term usageapi.Term
		want int
	}{
		{"asset", usageapi.And(ofFile, usageapi.Eq("asset.id", tg.fx.assetID)), 5},
		{"asset_id alias", usageapi.And(ofFile, usageapi.Eq("asset_id", tg.fx.assetID)), 5},
		{"status valid", usageapi.And(ofFile, usageapi.Eq("status", "valid")), 5},
		{"status in", usageapi.And(ofFile, usageapi.In("status", "approved", "closed")), 0},
		{"product", usageapi.And(ofFile, usageapi.Eq("product_id", tg.fx.product)), 5},
		{"other file", usageapi.Eq("usagefile.id", "UF-2000-01-0000-0000"), 0},
	}
	for _, ch := range checks {
		n, err := tg.vendor.Records(ch.term).Count(c)
		if err != nil || n != ch.want {
			t.Errorf("%s: count %d (%v), want %d", ch.name, n, err, ch.want)
		}
	}
	item, err := tg.vendor.Records(ofFile, usageapi.Eq("item.id", paged[0].Item.ID)).Count(c)
	if err != nil || item != 5 {
		t.Errorf("item.id: count %d (%v), want 5", item, err)
	}
}

func fileIDs(files []usageapi.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.ID
	}
	return out
}

func recordIDs(recs []usageapi.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
