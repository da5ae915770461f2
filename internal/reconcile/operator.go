package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Options configures Reconcile.
type Options struct {
	Catalog *events.Catalog
	// Settle leaves out periods that closed less than this long ago: the submitter may still be reporting them.
	Settle time.Duration
	// Since, when positive, leaves out periods that started more than this long ago (and reads only the
	// Connect records that start within it).
	Since time.Duration
	// Assets maps the Connect assets of parameter-searched products to the vendor's subscriptions (see
	// AssetMap); products it does not cover are compared over all their assets.
	Assets AssetMap
	// Now is the clock of Settle and Since; default time.Now.
	Now func() time.Time
}

// from is the start of the Since window (zero: no window).
func (o Options) from() time.Time {
	if o.Since <= 0 {
		return time.Time{}
	}
	return o.Now().Add(-o.Since)
}

// Finding is a difference between USAGE_AGG and Connect, with what the ledger says about its period.
type Finding struct {
	Difference
	Ledger string
}

// Report is the outcome of Reconcile.
type Report struct {
	Periods        int                         // closed periods compared
	Recent         int                         // closed periods left out (closed less than Settle ago)
	Open           int                         // periods some partition has not closed yet (left out)
	Before         int                         // periods that started before the Since window (left out)
	Unmarked       []string                    // periods closed longer than Settle ago that not every partition marked
	Expected       int                         // keys expected from USAGE_AGG
	Billed         int                         // keys billed in Connect (compared periods)
	Findings       []Finding                   // key differences
	LedgerIssues   []string                    // ledger entries and Connect files that disagree
	DuplicateFiles []string                    // external ids held by more than one live file
	AggDuplicates  []string                    // aggregator revisions stored more than once
	NotOurs        []string                    // live files whose external_id is not usagepipe's (not compared)
	AnyAsset       []string                    // parameter-searched products compared over all assets (no AssetMap)
	LedgerStates   map[ledger.State]int        // ledger entries per state
	FileStatuses   map[usageapi.FileStatus]int // Connect files per status
	DeadLetters    []string                    // open dead letters, by stage and reason: usage not billed yet
	Unreadable     []string                    // dead-lettered messages no usage can be read from (not problems)
	Abandoned      []Finding                   // differences in periods an operator abandoned a file of (not problems)
}

// Problems counts everything the report lists as wrong.
func (r *Report) Problems() int {
	return len(r.Findings) + len(r.LedgerIssues) + len(r.DuplicateFiles) + len(r.AggDuplicates) + len(r.Unmarked) +
		len(r.DeadLetters)
}

// Reconcile compares the closed periods in USAGE_AGG and the submitter ledger with the records Connect
// reports in accepted and closed files.
func Reconcile(ctx context.Context, conn *bus.Conn, client *usageapi.Client, o Options) (*Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	keyer := Keyer{Catalog: o.Catalog, Assets: o.Assets}
	agg, err := ReadAgg(ctx, conn, keyer)
	if err != nil {
		return nil, err
	}
	ledger, err := ReadLedger(ctx, conn)
	if err != nil {
		return nil, err
	}
	files, err := ReadFiles(ctx, client, o.Catalog)
	if err != nil {
		return nil, err
	}
	ours, others := splitOurs(files)
	billed, unmapped, err := ReadRecords(ctx, client, keyer, ours, sinceFilter(o)...)
	if err != nil {
		return nil, err
	}
	r := &Report{LedgerStates: ledger.ByState(), FileStatuses: statuses(files), AggDuplicates: agg.Duplicates,
		NotOurs: others, AnyAsset: keyer.Unmapped()}
	want, skip := r.scope(agg, o)
	have := Totals{}
	for k, v := range billed {
		if !skip[refOf(k)] && !r.before(refOf(k), o) {
			have[k] = v
		}
	}
	r.Expected, r.Billed = len(want), len(have)
	for _, d := range Compare(want, have) {
		entries := ledger.Period(refOf(d.Key))
		f := Finding{Difference: d, Ledger: ledgerNote(entries)}
		if abandoned(entries) {
			r.Abandoned = append(r.Abandoned, f)
		} else {
			r.Findings = append(r.Findings, f)
		}
	}
	r.LedgerIssues = append(ledgerIssues(ledger, files, skip), unmappedIssues(unmapped)...)
	r.DuplicateFiles = duplicateExternalIDs(files)
	r.DeadLetters, r.Unreadable, err = openDeadLetters(ctx, conn, o.Catalog)
	return r, err
}

// abandoned reports whether an operator abandoned a file of the period: its differences are on purpose.
func abandoned(entries []*ledger.Entry) bool {
	return slices.ContainsFunc(entries, func(e *ledger.Entry) bool { return e.State == ledger.StateAbandoned })
}

// openDeadLetters counts the open dead letters by stage and reason, one line each: those that hold an
// event or a record (usage not billed yet), and apart those that hold a message no usage can be read from
// (bad_json, unknown_kind: nothing to replay).
func openDeadLetters(ctx context.Context, conn *bus.Conn, cat *events.Catalog) (usage, unreadable []string, err error) {
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: %w", err)
	}
	svc, err := deadletter.New(conn, l, cat)
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: %w", err)
	}
	listing, err := svc.List(ctx, deadletter.Filter{Open: true})
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile: %w", err)
	}
	counts := map[[3]string]int{}
	for _, x := range listing.Letters {
		counts[[3]string{x.Stage, string(x.Reason), string(x.Kind)}]++
	}
	for _, k := range slices.SortedFunc(maps.Keys(counts), func(a, b [3]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }) {
		line := fmt.Sprintf("%s %s: %d open (usagepipe dlq list --open --stage %s --reason %s)", k[0], k[1], counts[k], k[0], k[1])
		if k[2] == string(deadletter.KindMessage) {
			unreadable = append(unreadable, line)
		} else {
			usage = append(usage, line)
		}
	}
	return usage, unreadable, nil
}

// sinceFilter narrows the records list to the Since window: a record starts no earlier than its period.
func sinceFilter(o Options) []usageapi.Term {
	if from := o.from(); !from.IsZero() {
		return []usageapi.Term{usageapi.Ge("start_date", from.UTC().Format(time.RFC3339))}
	}
	return nil
}

// before reports whether a period started before the Since window.
func (r *Report) before(ref PeriodRef, o Options) bool {
	start, err := events.ParsePeriodKey(ref.Period)
	return err == nil && start.Before(o.from())
}

func refOf(k Key) PeriodRef {
	return PeriodRef{Product: k.Product, Contract: k.Contract, Period: k.Period}
}

// scope returns the expected totals of the periods to compare, and the periods left out: those closed less
// than Settle ago, and those not every partition has marked (listed in Unmarked when they should have been).
func (r *Report) scope(agg *AggView, o Options) (Totals, map[PeriodRef]bool) {
	skip := map[PeriodRef]bool{}
	refs := map[PeriodRef]bool{}
	for ref := range agg.Marked {
		refs[ref] = true
	}
	for k := range agg.Totals {
		refs[refOf(k)] = true
	}
	for ref := range refs {
		switch {
		case r.before(ref, o):
			r.Before++
			skip[ref] = true
		case !r.compared(ref, agg, o):
			skip[ref] = true
		}
	}
	slices.Sort(r.Unmarked)
	want := Totals{}
	for k, v := range agg.Totals {
		if !skip[refOf(k)] {
			want[k] = v
		}
	}
	return want, skip
}

// compared reports whether a period is compared, counting it in Periods, Recent, Open or Unmarked.
func (r *Report) compared(ref PeriodRef, agg *AggView, o Options) bool {
	since := closedSince(o.Catalog, ref, o.Now())
	switch {
	case agg.Complete(ref) && since >= o.Settle:
		r.Periods++
		return true
	case since < o.Settle:
		r.Recent++
	case since >= o.Settle+unmarkedGrace:
		r.Unmarked = append(r.Unmarked, fmt.Sprintf("%s/%s %s: closed %v ago, marked by %d of %d partitions: its records are never reported",
			ref.Product, ref.Contract, ref.Period, since.Round(time.Second), agg.Marked[ref], agg.Partitions))
	default:
		r.Open++
	}
	return false
}

// unmarkedGrace is how long after Settle a closed period may still lack marks (an aggregator catching up).
const unmarkedGrace = 5 * time.Minute

// closedSince is how long ago the period closed (by the catalog's lateness); an unknown product's period
// counts as long closed.
func closedSince(cat *events.Catalog, ref PeriodRef, now time.Time) time.Duration {
	p, ok := cat.Product(ref.Product)
	start, err := events.ParsePeriodKey(ref.Period)
	if !ok || err != nil {
		return time.Duration(1<<63 - 1)
	}
	return now.Sub(p.CloseAt(p.PeriodOf(start)))
}

// ledgerNote says what the ledger knows of a period's files.
func ledgerNote(entries []*ledger.Entry) string {
	if len(entries) == 0 {
		return "no ledger entry for this period"
	}
	var parts []string
	for _, e := range entries {
		s := fmt.Sprintf("%s %s", e.Key, e.State)
		if e.Reason != "" || e.Note != "" {
			s += " (" + strings.TrimSpace(e.Reason+" "+e.Note) + ")"
		}
		parts = append(parts, s)
	}
	return "ledger: " + strings.Join(parts, "; ")
}

func statuses(files []usageapi.File) map[usageapi.FileStatus]int {
	m := map[usageapi.FileStatus]int{}
	for _, f := range files {
		m[f.Status]++
	}
	return m
}

func unmappedIssues(unmapped []string) []string {
	out := make([]string, len(unmapped))
	for i, u := range unmapped {
		out[i] = "unmapped Connect " + u
	}
	return out
}
