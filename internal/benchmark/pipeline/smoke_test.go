package pipeline

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/childproc"
)

// TestSmokeRun runs `usagepipe bench pipeline` (Command) for real at a CI size: the processes, a raw
// baseline, two 2-second steps, a 4-second soak over 2-second periods and their files accepted in Connect.
// It checks the shape of the output (one line per step, the RESULT line last and well formed) and that the
// soak's sums are exact; the figures themselves depend on the machine and are not asserted (the bench
// measures them). -short skips it: building the binaries takes most of its time.
func TestSmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs the system for about 20 seconds")
	}
	bins := t.TempDir()
	if err := childproc.Build(t.Context(), bins); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := []string{"--quick", "--bin-dir", bins, "--work-dir", t.TempDir(), "--keep", // kept: the RESULT line must stay the last
		"--subscriptions", "500", "--period", "2s", "--lateness", "1s",
		"--start-rate", "500", "--max-steps", "2", "--step", "2s", "--growth-window", "2s",
		"--batch", "5", // 200 requests in 2 s
		"--p99-limit", "10s", // a loaded CI machine must not fail a step on latency
		"--retries", "1", // a burst of other work may fail a step on its backlog: it is tried again
		"--soak", "4s", "--settle-timeout", "30s", "--raw-messages", "10000",
		"--late", "0"} // late events reach Connect after the submitter's 30 s supplement delay: the unit tests cover them
	err := Command(t.Context(), args, func(string) string { return "" }, &out)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(regexp.MustCompile(`(?m)^\[ *[0-9.]+s\] step [12]: `).FindAllString(out.String(), -1)) != 2 {
		t.Error("want one progress line per step (and one per try again)")
	}
	if last := lines[len(lines)-1]; !resultLine.MatchString(last) {
		t.Errorf("last line %q is not a well-formed RESULT line", last)
	}
	r, err := harness.ResultFigures(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pipeline_events_per_s", "raw_publish_msgs_per_s", "ingest_p99_ms", "e2e_p50_ms"} {
		if r[name] <= 0 {
			t.Errorf("%s: want a positive figure, have %v", name, r[name])
		}
	}
	if r["e2e_p99_ms"] < r["e2e_p50_ms"] || strings.Contains(out.String(), "not contained by the settle deadline") {
		t.Error("the soak's events are not all in accepted files, or p99 < p50")
	}
	if !regexp.MustCompile(`sums: 0 of the [1-9][0-9]* keys`).MatchString(out.String()) {
		t.Error("the soak's sums are not exact in Connect")
	}
	if !regexp.MustCompile(`stages of the soak's [1-9][0-9]* base files, since their period's close \(median / max\): created -?[0-9.]+ / `).MatchString(out.String()) {
		t.Error("no stages of the soak's base files")
	}
}

var resultLine = regexp.MustCompile(`^RESULT pipeline_events_per_s=[0-9]+ raw_publish_msgs_per_s=[0-9]+ ratio=[0-9]+\.[0-9]{2} ` +
	`ingest_p99_ms=[0-9]+\.[0-9] e2e_p50_ms=[0-9]+ e2e_p99_ms=[0-9]+ rss_growth_pct=-?[0-9]+\.[0-9]$`)
