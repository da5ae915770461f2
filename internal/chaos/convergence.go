package chaos

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// How fast a run converged, and at what cost in files. Convergence is the time from the last event sent
// (every send confirmed by ingest) to the first poll that found Connect billing the truth, every key's sum
// right, and that it kept doing until the run settled. The poll lists files every verifyEvery and re-reads
// the records when the files changed, when nothing moved for recordsEvery, or while a match is confirmed, so
// the figure is late by at most about that much. The files it cost are the supplementary files (revision ≥ 1,
// each part counted) of each period that has a live usagepipe file in Connect.

// periodSupplements counts the supplementary files of one period in Connect.
type periodSupplements struct {
	product string
	start   time.Time
	files   int
}

// supplementsPerPeriod counts, for every period with a live file whose external id is usagepipe's readable
// form, the live supplementary files it got, in product and period order.
func supplementsPerPeriod(files []usageapi.File) []periodSupplements {
	type period struct {
		product, contract string
		start             time.Time
	}
	counts := map[period]int{}
	for _, f := range liveSorted(files) {
		id, ok := ledger.ParseExternalID(f.ExternalID)
		if !ok {
			continue
		}
		k := period{id.Product, id.Contract, id.PeriodStart}
		if id.Revision > 0 {
			counts[k]++
		} else if _, seen := counts[k]; !seen {
			counts[k] = 0
		}
	}
	out := make([]periodSupplements, 0, len(counts))
	for k, n := range counts {
		out = append(out, periodSupplements{product: k.product, start: k.start, files: n})
	}
	slices.SortFunc(out, func(a, b periodSupplements) int {
		if c := strings.Compare(a.product, b.product); c != 0 {
			return c
		}
		return a.start.Compare(b.start)
	})
	return out
}

// fileSpread is the median and the largest count of supplementary files per period, over n periods.
type fileSpread struct{ n, p50, max int }

func spreadOf(ps []periodSupplements, product string) fileSpread {
	var counts []int
	for _, p := range ps {
		if product == "" || p.product == product {
			counts = append(counts, p.files)
		}
	}
	if len(counts) == 0 {
		return fileSpread{}
	}
	slices.Sort(counts)
	return fileSpread{n: len(counts), p50: counts[len(counts)/2], max: counts[len(counts)-1]}
}

// writeConvergence prints the convergence time and the supplementary files per period, per product.
func (r *report) writeConvergence(out io.Writer) {
	if r.result.Converged < 0 {
		fmt.Fprintln(out, "converged: no (Connect never billed the truth until the run settled)")
	} else {
		fmt.Fprintf(out, "converged: every sum right in Connect %v after the last event was sent (polls every %v, records re-read within %v)\n",
			r.result.Converged.Round(time.Second), verifyEvery, recordsEvery)
	}
	ps := supplementsPerPeriod(r.v.files)
	var parts []string
	for _, p := range r.products {
		if s := spreadOf(ps, p.id); s.n > 0 {
			parts = append(parts, fmt.Sprintf("%s (%v+%v) p50 %d max %d over %d periods", p.id, p.every, p.lateness, s.p50, s.max, s.n))
		}
	}
	fmt.Fprintf(out, "supplementary files per period: %s\n", strings.Join(parts, "; "))
}
