package chaos

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// fileContents is what Connect holds in each file: its records, and the records it could not key, by file id.
type fileContents struct {
	records  map[string][]reconcile.FileRecord
	unmapped map[string][]string
}

// dupCheck is the outcome of the duplicate-file check: each entry names a live file and why it counts.
type dupCheck struct {
	duplicates   []string // a live file that repeats another
	unclassified []string // a live file the check cannot classify (a failure: it may be a duplicate)
}

// count is duplicate_files: the duplicates and the files the check could not classify.
func (d dupCheck) count() int { return len(d.duplicates) + len(d.unclassified) }

// checkDuplicates finds the live (not deleted) files that repeat another, by two independent rules:
//   - the same external_id as another live file (the submitter's own key);
//   - the same Connect product, contract and period, and the same records (asset × item × tier × period
//     start with their quantity and amount), whatever the files' names, external ids and descriptions say,
//     when the live files together bill one of those keys above the truth. Two supplements may legitimately
//     hold equal deltas (a count +1 twice); the truth tells them from a copy.
//
// A live file without product, contract or period, or with a record the catalog cannot key, cannot be
// classified; contents nil (the records could not be read) leaves every live file unclassified.
func checkDuplicates(files []usageapi.File, contents *fileContents, truth reconcile.Totals) dupCheck {
	var out dupCheck
	live := liveSorted(files)
	if contents == nil {
		for _, f := range live {
			out.unclassified = append(out.unclassified, f.ID+": its records could not be read")
		}
		return out
	}
	byExternal, byContent := map[string]string{}, map[string][]string{}
	for _, f := range live {
		if first, ok := byExternal[f.ExternalID]; ok && f.ExternalID != "" {
			out.duplicates = append(out.duplicates, fmt.Sprintf("%s repeats external id %s of %s", f.ID, f.ExternalID, first))
			continue
		}
		byExternal[f.ExternalID] = f.ID
		fp, err := fingerprint(f, contents)
		if err != nil {
			out.unclassified = append(out.unclassified, fmt.Sprintf("%s (%s): %v", f.ID, f.ExternalID, err))
			continue
		}
		byContent[fp] = append(byContent[fp], f.ID)
	}
	out.duplicates = append(out.duplicates, copies(byContent, contents, liveTotals(live, contents), truth)...)
	return out
}

// copies describes the files beyond the first of every group of equal contents whose keys the live files
// bill above the truth.
func copies(byContent map[string][]string, contents *fileContents, live, truth reconcile.Totals) []string {
	var out []string
	for _, fp := range slices.Sorted(maps.Keys(byContent)) {
		ids := byContent[fp]
		if len(ids) < 2 || !aboveTruth(contents.records[ids[0]], live, truth) {
			continue
		}
		for _, id := range ids[1:] {
			out = append(out, fmt.Sprintf("%s holds the same product, contract, period and records as %s", id, ids[0]))
		}
	}
	return out
}

// aboveTruth reports whether the live files bill one of the records' keys above the truth.
func aboveTruth(recs []reconcile.FileRecord, live, truth reconcile.Totals) bool {
	return slices.ContainsFunc(recs, func(r reconcile.FileRecord) bool {
		d := reconcile.Difference{Key: r.Key, Want: truth[r.Key], Have: live[r.Key]}
		return !d.Want.Equal(d.Have) && d.Kind() == reconcile.Doubled
	})
}

// liveTotals sums the records of the live files that Connect has not refused (invalid, rejected) per key.
func liveTotals(live []usageapi.File, contents *fileContents) reconcile.Totals {
	t := reconcile.Totals{}
	for _, f := range live {
		for _, r := range contents.records[f.ID] {
			if r.Status != usageapi.RecordStatusInvalid && r.Status != usageapi.RecordStatusRejected {
				amount := r.Value.Amount
				t.Add(r.Key, r.Value.Quantity, &amount)
			}
		}
	}
	return t
}

// fingerprint is a file's Connect product, contract and period and its sorted records (key, quantity,
// amount): equal for two files that bill the same, whatever they are named.
func fingerprint(f usageapi.File, contents *fileContents) (string, error) {
	switch {
	case f.Product == nil || f.Product.ID == "":
		return "", fmt.Errorf("no product")
	case f.Contract == nil || f.Contract.ID == "":
		return "", fmt.Errorf("no contract")
	case f.Period == nil || f.Period.From.IsZero() || f.Period.To.IsZero():
		return "", fmt.Errorf("no period")
	case len(contents.unmapped[f.ID]) > 0:
		return "", fmt.Errorf("records the catalog cannot key: %s", strings.Join(contents.unmapped[f.ID], "; "))
	}
	lines := []string{strings.Join([]string{f.Product.ID, f.Contract.ID, f.Period.From.String(), f.Period.To.String()}, "|")}
	for _, r := range contents.records[f.ID] {
		lines = append(lines, r.Key.String()+"="+r.Value.Quantity.String()+"/"+r.Value.Amount.String())
	}
	slices.Sort(lines[1:])
	return strings.Join(lines, "\n"), nil
}

// liveSorted returns the files that are not deleted, by id (so the first of a group is the same every time).
func liveSorted(files []usageapi.File) []usageapi.File {
	var live []usageapi.File
	for _, f := range files {
		if f.Status != usageapi.FileStatusDeleted {
			live = append(live, f)
		}
	}
	slices.SortFunc(live, func(a, b usageapi.File) int { return cmp.Compare(a.ID, b.ID) })
	return live
}

// liveFiles counts the files that are not deleted.
func liveFiles(files []usageapi.File) int { return len(liveSorted(files)) }
