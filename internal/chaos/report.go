package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/usagepipe/usagepipe/internal/childproc"
	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Result is the outcome of a run. Lost and Doubled count keys (asset × item × tier × period) whose billed
// total in Connect is below, respectively above, the truth.
type Result struct {
	Events         int            // unique events of the workload
	Lost           int            // keys billed below the truth (or not at all)
	Doubled        int            // keys billed above the truth (or billed without any event)
	Files          int            // usage files in Connect, deleted ones excepted
	DuplicateFiles int            // live files repeating another (by external id or by content), or unclassifiable
	Kills          int            // SIGKILLs of workers and NATS nodes
	KillsByKind    map[string]int // the same per kind: ingest, aggregator, submitter, nats
	Rejected       int64          // events ingest rejected (the workload is valid: any is a failure)
	Unmapped       int            // Connect records that match no catalog key
	Faults         map[string]int // Connect faults the emulator injected, by kind (commit-null, redirect, …)
	Settled        bool           // Connect settled on the truth before the deadline
	Compared       bool           // the reported counts come from a successful read of Connect
	Converged      time.Duration  // last event sent → Connect billing the truth until it settled; -1: never
	SupplementsP50 int            // supplementary files per period in Connect: the median over its periods
	SupplementsMax int            // … and the most
	// With Config.DeadLetters: the open dead letters at the first settle (all of them and by "stage reason"),
	// those still open after the replay phase, whether the first replay was SIGKILLed while it ran, and
	// what a replay after the one that finished still published (nothing, for exactly once).
	DeadLettersOn       bool
	DeadLetters         int
	DeadLettersByReason map[string]int
	OpenDeadLetters     int
	ReplayKilled        bool
	ReplayedAgainNew    int
	Elapsed             time.Duration // the whole run
	Dir                 string        // the run directory (removed unless kept)
}

// OK reports whether the run proved exactly once: Connect was read and compared with the truth, it settled
// on it (confirmed), and nothing is lost, doubled or rejected, no file is a duplicate; with dead letters,
// some were made, none is left open after the replay phase, and a replay again published nothing. Zero counts alone
// prove nothing: they are also what a run that never read Connect has.
func (r Result) OK() bool {
	replayed := !r.DeadLettersOn || r.DeadLetters > 0 && r.OpenDeadLetters == 0 && r.ReplayedAgainNew == 0
	return r.Settled && r.Compared && r.Lost == 0 && r.Doubled == 0 && r.DuplicateFiles == 0 &&
		r.Rejected == 0 && r.Unmapped == 0 && replayed
}

// setVerdict fills what the comparison with Connect found.
func (r *Result) setVerdict(v verdict) {
	r.Settled, r.Compared = v.settled, v.compared
	r.Lost, r.Doubled = reconcile.Count(v.diffs)
	r.Files, r.DuplicateFiles = liveFiles(v.files), v.dups.count()
	r.Unmapped = len(v.unmapped)
	s := spreadOf(supplementsPerPeriod(v.files), "")
	r.SupplementsP50, r.SupplementsMax = s.p50, s.max
}

// setConvergence fills Converged from when the last event was sent and the verdict.
func (r *Result) setConvergence(lastSent time.Time, v verdict) {
	r.Converged = -1
	if v.settled && !v.correctSince.IsZero() && !lastSent.IsZero() {
		r.Converged = max(v.correctSince.Sub(lastSent), 0)
	}
}

// Line is the RESULT line, the last line a run prints.
func (r Result) Line() string {
	return fmt.Sprintf("RESULT events=%d lost=%d doubled=%d files=%d duplicate_files=%d dead_letters=%d open_dead_letters=%d kills=%d converged_s=%d supplements_per_period_p50=%d supplements_per_period_max=%d ok=%t",
		r.Events, r.Lost, r.Doubled, r.Files, r.DuplicateFiles, r.DeadLetters, r.OpenDeadLetters, r.Kills,
		convergedSeconds(r.Converged), r.SupplementsP50, r.SupplementsMax, r.OK())
}

// convergedSeconds is d in whole seconds, -1 when the run never converged.
func convergedSeconds(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int(d.Round(time.Second) / time.Second)
}

// report is everything the summary prints.
type report struct {
	cfg      Config
	products []product
	w        *Workload
	truth    reconcile.Totals
	v        verdict
	agg      *reconcile.AggView // nil when it could not be read
	ledger   *reconcile.Ledger  // nil when it could not be read
	faults   faultTally
	aggDiffs []reconcile.Difference
	prod     *producer
	procs    []childproc.Stats
	result   Result
	phases   string
	first    verdict        // the first settle's, before the replay phase (Config.DeadLetters)
	replayed map[string]int // the decisions of the replay that finished, by decision
	lastSent time.Time      // when the producer had every send confirmed
}

// maxDifferences bounds the differences listed in the summary.
const maxDifferences = 20

func (r *report) write(out io.Writer) {
	c := r.cfg
	fmt.Fprintf(out, "\nusagepipe chaos: seed %d, %d events (%d resent, %d late) over %d subscriptions, %d products, %d NATS node(s), %d partitions\n",
		c.Seed, len(r.w.Events), r.w.Resent, r.w.Late, c.Subscriptions, c.Products, c.Cluster, c.Partitions)
	r.writeProducts(out)
	r.writeConnect(out)
	r.writeConvergence(out)
	fmt.Fprintf(out, "connect faults injected: %s\n", r.faults)
	r.writeLedger(out)
	r.writeAgg(out)
	r.writeProducer(out)
	r.writeDeadLetters(out)
	r.writeProcs(out)
	r.writeDifferences(out)
	r.writeEnd(out)
}

func (r *report) writeProducer(out io.Writer) {
	p := r.prod
	fmt.Fprintf(out, "producer: %d sends in %d requests (%d retried); ingest answered %d accepted, %d duplicate, %d rejected\n",
		len(r.w.Sends), p.requests.Load(), p.retries.Load(), p.accepted.Load(), p.duplicates.Load(), p.rejected.Load())
	for _, s := range p.rejections {
		fmt.Fprintln(out, "  rejected:", s)
	}
}

// writeDeadLetters prints the replay phase: the dead letters found by stage and reason, what the replay
// decided, and what is left.
func (r *report) writeDeadLetters(out io.Writer) {
	res := r.result
	if !res.DeadLettersOn {
		return
	}
	fmt.Fprintf(out, "dead letters at the first settle (%s): %d open: %s\n", settledText(r.first), res.DeadLetters,
		tallyText(res.DeadLettersByReason))
	fmt.Fprintf(out, "replay phase: the first replay SIGKILLed while running: %t; decisions: %s; a replay again published %d; open after: %d\n",
		res.ReplayKilled, tallyText(r.replayed), res.ReplayedAgainNew, res.OpenDeadLetters)
}

func (r *report) writeDifferences(out io.Writer) {
	if len(r.v.diffs) > 0 {
		fmt.Fprintf(out, "differences, Connect vs truth (%d):\n", len(r.v.diffs))
		reconcile.WriteDifferences(out, r.v.diffs, maxDifferences)
	}
	writeList(out, "unmapped", r.v.unmapped)
	writeList(out, "duplicate file", r.v.dups.duplicates)
	writeList(out, "unclassified file", r.v.dups.unclassified)
}

// writeList prints up to maxDifferences lines, each with its label.
func writeList(out io.Writer, label string, lines []string) {
	for i, l := range lines {
		if i == maxDifferences {
			fmt.Fprintf(out, "  … %d more\n", len(lines)-i)
			break
		}
		fmt.Fprintf(out, "  %s: %s\n", label, l)
	}
}

// writeEnd prints the run directory, the durations and, last, the RESULT line.
func (r *report) writeEnd(out io.Writer) {
	kept := " (kept)"
	if !r.cfg.Keep && r.result.OK() {
		kept = " (removed: the run passed; --keep keeps it)"
	}
	fmt.Fprintf(out, "run directory: %s%s\n", r.result.Dir, kept)
	fmt.Fprintf(out, "duration: %v (%s)\n", r.result.Elapsed.Round(time.Second), r.phases)
	fmt.Fprintf(out, "settled=%t compared=%t\n", r.result.Settled, r.result.Compared)
	fmt.Fprintln(out, r.result.Line())
}

// writeProducts prints one row per product: its shape, the truth's keys and events, and the comparison.
func (r *report) writeProducts(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "product\tschema\tperiod+lateness\titems\tkeys\tevents\tadjustments\tconnect records\tlost\tdoubled")
	for _, p := range r.products {
		keys, evs, recs, lost, doubled := r.productCounts(p.id)
		var items []string
		for _, it := range p.items {
			items = append(items, it.mpn+":"+string(it.agg))
		}
		adjusted := "?"
		if r.agg != nil {
			adjusted = strconv.Itoa(r.agg.Adjusted[p.id])
		}
		fmt.Fprintf(tw, "%s\t%s\t%v+%v\t%s\t%d\t%d\t%s\t%d\t%d\t%d\n", p.id, p.schema, p.every, p.lateness,
			strings.Join(items, " "), keys, evs, adjusted, recs, lost, doubled)
	}
	tw.Flush()
}

func (r *report) productCounts(id string) (keys, evs, recs, lost, doubled int) {
	for k, v := range r.truth {
		if k.Product == id {
			keys++
			evs += v.Records
		}
	}
	for k, v := range r.v.have {
		if k.Product == id {
			recs += v.Records
		}
	}
	var mine []reconcile.Difference
	for _, d := range r.v.diffs {
		if d.Key.Product == id {
			mine = append(mine, d)
		}
	}
	lost, doubled = reconcile.Count(mine)
	return keys, evs, recs, lost, doubled
}

func (r *report) writeConnect(out io.Writer) {
	by := map[usageapi.FileStatus]int{}
	for _, f := range r.v.files {
		by[f.Status]++
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%d %s", by[s], s))
	}
	fmt.Fprintf(out, "connect: %d files (%s), %d duplicate files, %d records unmapped\n",
		r.result.Files, strings.Join(parts, ", "), r.result.DuplicateFiles, len(r.v.unmapped))
}

func (r *report) writeLedger(out io.Writer) {
	if r.ledger == nil {
		fmt.Fprintln(out, "ledger: not read")
		return
	}
	by := r.ledger.ByState()
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%d %s", by[s], s))
	}
	fmt.Fprintf(out, "ledger: %d entries (%s)\n", len(r.ledger.Entries), strings.Join(parts, ", "))
}

func (r *report) writeAgg(out io.Writer) {
	if r.agg == nil {
		fmt.Fprintln(out, "aggregator output: not read")
		return
	}
	lost, doubled := reconcile.Count(r.aggDiffs)
	fmt.Fprintf(out, "aggregator output (USAGE_AGG) vs truth: %d closed records, %d adjustments, %d keys lost, %d doubled, %d revisions stored twice\n",
		r.agg.Closed, r.agg.Adjustments, lost, doubled, len(r.agg.Duplicates))
	if len(r.aggDiffs) > 0 {
		reconcile.WriteDifferences(out, r.aggDiffs, maxDifferences)
	}
	for i, d := range r.agg.Duplicates {
		if i == maxDifferences {
			break
		}
		fmt.Fprintln(out, "  stored twice:", d)
	}
}

func (r *report) writeProcs(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "process\tstarts\tkills\tcrashes\tlast exit")
	for _, s := range r.procs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", s.Name, s.Starts, s.Kills, s.Crashes, s.LastExit)
	}
	tw.Flush()
	k := r.result.KillsByKind
	fmt.Fprintf(out, "kills: %d (ingest %d, aggregator %d, submitter %d, nats %d); crashes are exits nobody asked for, restarted after a backoff\n",
		r.result.Kills, k[kindIngest], k[kindAggregator], k[kindSubmitter], k[kindNATS])
}
