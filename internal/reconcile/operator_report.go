package reconcile

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Write prints the report: what was compared, then every problem (at most limit of each kind when limit > 0).
func (r *Report) Write(w io.Writer, limit int) {
	fmt.Fprintf(w, "USAGE_AGG: %d closed periods compared (%d closed less than --settle ago, %d still being marked and %d started before --since left out), %d keys expected\n",
		r.Periods, r.Recent, r.Open, r.Before, r.Expected)
	fmt.Fprintf(w, "ledger: %s\n", counts(r.LedgerStates))
	fmt.Fprintf(w, "Connect: %s; %d keys billed in the compared periods\n", counts(r.FileStatuses), r.Billed)
	if len(r.Findings) > 0 {
		lost, doubled := 0, 0
		for _, f := range r.Findings {
			if f.Kind() == Lost {
				lost++
			} else {
				doubled++
			}
		}
		fmt.Fprintf(w, "differences, USAGE_AGG vs Connect (%d: %d lost, %d doubled):\n", len(r.Findings), lost, doubled)
		for i, f := range r.Findings {
			if limit > 0 && i == limit {
				fmt.Fprintf(w, "  … and %d more\n", len(r.Findings)-limit)
				break
			}
			fmt.Fprintf(w, "  %s\n      %s\n", f.Difference, f.Ledger)
		}
	}
	for _, p := range r.AnyAsset {
		fmt.Fprintf(w, "note: product %s finds assets by a parameter and no --assets file maps them: compared per item over all its assets, so a swap between assets is not seen\n", p)
	}
	writeList(w, "dead letters not replayed: usage not billed", r.DeadLetters, limit)
	writeList(w, "dead-lettered messages no usage can be read from (not counted)", r.Unreadable, limit)
	if len(r.Abandoned) > 0 {
		var lines []string
		for _, f := range r.Abandoned {
			lines = append(lines, fmt.Sprintf("%s\n      %s", f.Difference, f.Ledger))
		}
		writeList(w, "differences in periods with an abandoned file (on purpose, not counted)", lines, limit)
	}
	writeList(w, "closed periods not marked by every partition", r.Unmarked, limit)
	writeList(w, "ledger vs Connect", r.LedgerIssues, limit)
	writeList(w, "external ids held by several live files", r.DuplicateFiles, limit)
	writeList(w, "aggregator revisions stored twice", r.AggDuplicates, limit)
	writeList(w, "files not created by usagepipe (not compared)", r.NotOurs, limit)
	fmt.Fprintf(w, "reconcile: %d problems\n", r.Problems())
}

func writeList(w io.Writer, title string, items []string, limit int) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):\n", title, len(items))
	for i, s := range items {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "  … and %d more\n", len(items)-limit)
			return
		}
		fmt.Fprintln(w, " ", s)
	}
}

// counts formats a tally as "3 accepted, 1 pending" in key order ("none" when empty).
func counts[K ~string](m map[K]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}
