package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is the outcome of a bench.
type Result struct {
	Sustained    float64       // highest step rate sustained, events/s (duplicates included)
	Saturated    bool          // some step failed: Sustained is the limit found, not a lower bound
	Raw          float64       // raw JetStream publish of 256-byte messages, msgs/s
	IngestP50    time.Duration // soak: scheduled send → ingest's answer
	IngestP99    time.Duration
	E2EP50       time.Duration // soak, events on time: beyond the later of their acceptance and their period's close
	E2EP99       time.Duration
	LateP50      time.Duration // the same for events timed in a closed period (reported in supplements)
	LateP99      time.Duration
	Open         int     // followed events not in an accepted file when the bench ended (counted at their age then)
	RSSGrowthPct float64 // the largest RSS growth of a pipeline process over the soak, in percent
	RSSGrowthOf  string  // that process
}

// Ratio is the sustained pipeline rate over the raw publish rate.
func (r Result) Ratio() float64 {
	if r.Raw == 0 {
		return 0
	}
	return r.Sustained / r.Raw
}

// Line is the RESULT line, the last line a bench prints.
func (r Result) Line() string {
	return fmt.Sprintf("RESULT pipeline_events_per_s=%.0f raw_publish_msgs_per_s=%.0f ratio=%.2f ingest_p99_ms=%.1f "+
		"e2e_p50_ms=%.0f e2e_p99_ms=%.0f rss_growth_pct=%.1f",
		r.Sustained, r.Raw, r.Ratio(), ms(r.IngestP99), ms(r.E2EP50), ms(r.E2EP99), r.RSSGrowthPct)
}

// pipelineProcess reports whether a process is part of the pipeline whose memory must not grow: the
// emulator holds emulated Connect's files and records, the bench its ground truth; both grow by design.
func pipelineProcess(name string) bool { return name != nameEmulator && name != nameBench }

// result computes the figures of the RESULT line.
func (r *run) result(s *soakFigures, sustained float64, saturated bool, raw float64) Result {
	res := Result{Sustained: sustained, Saturated: saturated, Raw: raw, IngestP50: s.ingest.p50, IngestP99: s.ingest.p99}
	onTime, late, open := r.truth.latencies(s.openAt)
	res.Open = open
	on, lt := summarise(onTime), summarise(late)
	res.E2EP50, res.E2EP99, res.LateP50, res.LateP99 = on.p50, on.p99, lt.p50, lt.p99
	res.RSSGrowthPct, res.RSSGrowthOf = rssGrowth(s.start, s.end)
	return res
}

// rssGrowth is the largest growth, in percent, of a pipeline process's RSS between two reads, and its name.
func rssGrowth(start, end []usage) (float64, string) {
	was := map[string]int64{}
	for _, u := range start {
		was[u.name] = u.rss
	}
	growth, of := 0.0, ""
	for _, u := range end {
		if !pipelineProcess(u.name) || was[u.name] == 0 {
			continue
		}
		if g := 100 * float64(u.rss-was[u.name]) / float64(was[u.name]); of == "" || g > growth {
			growth, of = g, u.name
		}
	}
	return growth, of
}

// report writes the summary and the RESULT line.
func (r *run) report(s *soakFigures, res Result) {
	out := r.cfg.Out
	fmt.Fprintf(out, "\nusagepipe bench pipeline: %d subscriptions (Zipf s=%g v=%g) over %d products with fixed %v periods "+
		"(lateness %v), 3 summed items, %.0f %% duplicates, %.0f %% late, batches of %d events, %d partitions\n",
		r.cfg.Subscriptions, r.cfg.ZipfS, r.cfg.ZipfV, r.cfg.Products, r.cfg.Period, r.cfg.Lateness,
		100*r.cfg.DuplicateShare, 100*r.cfg.LateShare, r.cfg.Batch, r.cfg.Partitions)
	saturated := "the highest rate a step sustained"
	if !res.Saturated {
		saturated = "a lower bound: no step failed"
	}
	fmt.Fprintf(out, "sustained: %.0f events/s (%s); raw JetStream publish %.0f msgs/s; ratio %.2f\n",
		res.Sustained, saturated, res.Raw, res.Ratio())
	failed := fmt.Sprintf("%d requests failed", s.failures)
	if s.failures > 0 {
		failed += fmt.Sprintf(" (by HTTP status, 0 for transport errors: %v)", s.statuses)
	}
	fmt.Fprintf(out, "soak: %.0f events/s for %v, %d events: ingest p50 %.1f ms p99 %.1f ms max %.1f ms (send lag p99 %.1f ms), "+
		"%s, %d events rejected, backlog max %.1f s\n", s.rate, s.to.Sub(s.from).Round(time.Second), s.events,
		ms(s.ingest.p50), ms(s.ingest.p99), ms(s.ingest.max), ms(s.sendLag.p99), failed, s.rejected, s.backlog.Seconds())
	r.reportE2E(s, res)
	r.reportUsage(s)
	if r.cfg.Keep {
		fmt.Fprintf(out, "run directory kept: %s\n", r.dir)
	}
	fmt.Fprintln(out, res.Line())
}

func (r *run) reportE2E(s *soakFigures, res Result) {
	out := r.cfg.Out
	e := r.truth.figures()
	fmt.Fprintf(out, "end to end (stored by ingest → in an accepted Connect file, beyond the later of that and the "+
		"period's close), every %d-th soak event: on time p50 %.0f ms p99 %.0f ms max %.0f ms (%d); late p50 %.0f ms "+
		"p99 %.0f ms max %.0f ms (%d)", s.probeEvery, ms(res.E2EP50), ms(res.E2EP99), ms(e.onTime.max), e.onTime.n,
		ms(res.LateP50), ms(res.LateP99), ms(e.late.max), e.late.n)
	if res.Open > 0 {
		fmt.Fprintf(out, "; %d not contained by the settle deadline (counted at their age then)", res.Open)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, stagesLine(r.conn.baseStages(), periodStart(s.from, r.cfg.Period), periodStart(s.to, r.cfg.Period)))
	st := r.conn.state()
	fmt.Fprintf(out, "Connect: files by status %s; %d accepted files read, %d records; %d records of keys no event was stored for\n",
		statusCounts(st.statuses), st.accepted, st.records, e.unknown)
	for _, p := range st.problems {
		fmt.Fprintln(out, "  problem:", p)
	}
	fmt.Fprintf(out, "sums: %d of the %d keys of the soak's periods differ between what ingest stored and what Connect accepted\n",
		s.differs, s.keys)
}

func statusCounts[K ~string](m map[K]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// reportUsage lists every process's RSS at the soak's start and end and its CPU share during the soak.
func (r *run) reportUsage(s *soakFigures) {
	out := r.cfg.Out
	was := map[string]usage{}
	for _, u := range s.start {
		was[u.name] = u
	}
	wall := s.to.Sub(s.from).Seconds()
	fmt.Fprintln(out, "process        RSS start → end (growth)     CPU during the soak")
	for _, u := range s.end {
		w := was[u.name]
		note := ""
		if !pipelineProcess(u.name) {
			note = " (not counted: grows by design)"
		}
		fmt.Fprintf(out, "%-13s %7.1f → %7.1f MiB (%+5.1f %%)   %5.1f %%%s\n", u.name, mib(w.rss), mib(u.rss),
			pct(u.rss, w.rss), 100*(u.cpu-w.cpu).Seconds()/wall, note)
	}
}

func pct(now, was int64) float64 {
	if was == 0 {
		return 0
	}
	return 100 * float64(now-was) / float64(was)
}
