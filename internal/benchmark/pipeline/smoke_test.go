package pipeline

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/childproc"
)

// TestSmokeRun runs the whole command for real at a CI size: the processes, a raw baseline, two 2-second
// steps, a 4-second soak over 2-second periods and their files accepted in Connect. It checks the shape of
// the output and that the soak's sums are exact; the figures themselves depend on the machine and are not
// asserted (usagepipe bench pipeline measures them). -short skips it: building the binaries takes most of its
// time.
func TestSmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs the system for about 20 seconds")
	}
	bins := t.TempDir()
	if err := childproc.Build(t.Context(), bins); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := QuickConfig()
	c.BinDir, c.WorkDir, c.Out, c.Keep = bins, t.TempDir(), &out, true // kept: the RESULT line must stay the last
	c.Subscriptions, c.Period, c.Lateness = 500, 2*time.Second, time.Second
	c.StartRate, c.MaxSteps, c.StepDuration, c.GrowthWindow = 500, 2, 2*time.Second, 2*time.Second
	c.Batch, c.P99Limit = 5, 10*time.Second // 200 requests in 2 s; a loaded CI machine must not fail a step on latency
	c.Soak, c.SettleTimeout, c.RawMessages = 4*time.Second, 30*time.Second, 10_000
	c.Retries = 1   // a burst of other work may fail a step on its backlog: it is tried again
	c.LateShare = 0 // late events reach Connect after the submitter's 30 s supplement delay: the unit tests cover them
	res, err := Run(t.Context(), c)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(regexp.MustCompile(`(?m)^\[ *[0-9.]+s\] step [12]: `).FindAllString(out.String(), -1)) != 2 {
		t.Error("want one progress line per step (and one per try again)")
	}
	if last := lines[len(lines)-1]; last != res.Line() || !resultLine.MatchString(last) {
		t.Errorf("last line %q is not the RESULT line %q", last, res.Line())
	}
	if res.Sustained <= 0 || res.Raw <= 0 || res.IngestP99 <= 0 || res.E2EP50 <= 0 || res.E2EP99 < res.E2EP50 || res.Open != 0 {
		t.Errorf("result %+v", res)
	}
	if !regexp.MustCompile(`sums: 0 of the [1-9][0-9]* keys`).MatchString(out.String()) {
		t.Error("the soak's sums are not exact in Connect")
	}
}

var resultLine = regexp.MustCompile(`^RESULT pipeline_events_per_s=[0-9]+ raw_publish_msgs_per_s=[0-9]+ ratio=[0-9]+\.[0-9]{2} ` +
	`ingest_p99_ms=[0-9]+\.[0-9] e2e_p50_ms=[0-9]+ e2e_p99_ms=[0-9]+ rss_growth_pct=-?[0-9]+\.[0-9]$`)
