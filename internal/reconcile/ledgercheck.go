package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// ledgerIssues lists ledger entries whose Connect file disagrees with them, entries parked or not finished
// (periods in skip excepted), and usagepipe files in Connect that the ledger does not know.
func ledgerIssues(l *Ledger, files []usageapi.File, skip map[PeriodRef]bool) []string {
	live := map[string]*usageapi.File{}
	for i := range files {
		if f := &files[i]; f.Status != usageapi.FileStatusDeleted && f.ExternalID != "" {
			live[f.ExternalID] = f
		}
	}
	known := map[string]bool{}
	var issues []string
	for _, e := range l.Entries {
		known[e.ExternalID] = true
		if skip[PeriodRef{Product: e.Product, Contract: e.Contract, Period: PeriodKey(e.PeriodStart)}] {
			continue
		}
		if issue := entryIssue(e, live[e.ExternalID]); issue != "" {
			issues = append(issues, e.Key+": "+issue)
		}
	}
	for id, f := range live {
		if strings.HasPrefix(id, ledger.ExternalIDPrefix) && !known[id] {
			issues = append(issues, fmt.Sprintf("Connect file %s (%s, %s) is unknown to the ledger", f.ID, id, f.Status))
		}
	}
	slices.Sort(issues)
	return issues
}

// entryIssue says what is wrong with one ledger entry, or "".
func entryIssue(e *ledger.Entry, f *usageapi.File) string {
	switch {
	case e.State == ledger.StateEmpty, e.State == ledger.StateAbandoned:
		return ""
	case e.State.Parked():
		return fmt.Sprintf("parked %s: %s", e.State, strings.TrimSpace(e.Reason+" "+e.Note))
	case !e.State.Terminal():
		return fmt.Sprintf("not finished: %s (last error: %s)", e.State, e.LastError)
	case f == nil:
		return fmt.Sprintf("ledger says %s, but Connect has no live file with external_id %s", e.State, e.ExternalID)
	case !Billed(f.Status):
		return fmt.Sprintf("ledger says %s, but Connect file %s is %s", e.State, f.ID, f.Status)
	}
	return ""
}

// duplicateExternalIDs lists the external ids that more than one live file holds.
func duplicateExternalIDs(files []usageapi.File) []string {
	count := map[string][]string{}
	for _, f := range files {
		if f.Status != usageapi.FileStatusDeleted && f.ExternalID != "" {
			count[f.ExternalID] = append(count[f.ExternalID], f.ID+" "+string(f.Status))
		}
	}
	var out []string
	for id, fs := range count {
		if len(fs) > 1 {
			out = append(out, fmt.Sprintf("%s: %s", id, strings.Join(fs, ", ")))
		}
	}
	slices.Sort(out)
	return out
}

// splitOurs separates the files usagepipe creates (external_id usagepipe:…), which the comparison reads,
// from the others, described (live ones only: a deleted file bills nothing).
func splitOurs(files []usageapi.File) (ours []usageapi.File, others []string) {
	for _, f := range files {
		switch {
		case strings.HasPrefix(f.ExternalID, ledger.ExternalIDPrefix):
			ours = append(ours, f)
		case f.Status != usageapi.FileStatusDeleted:
			others = append(others, fmt.Sprintf("%s (external_id %q, %s)", f.ID, f.ExternalID, f.Status))
		}
	}
	slices.Sort(others)
	return ours, others
}
