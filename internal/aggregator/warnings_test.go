package aggregator

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDedupHorizonWarnings checks the warning for a dedup horizon shorter than products' max event age: in
// Options.Warnings, in -validate's output and in the worker's log at start.
func TestDedupHorizonWarnings(t *testing.T) {
	env := newTestEnv(t, 1) // the test catalog's product keeps events 1 h
	o := env.testOptions("warned")
	if w := o.Warnings(); len(w) != 0 {
		t.Errorf("default horizon 24h over a 1h max event age: want no warning, have %q", w)
	}
	noMaxAge := parseCatalog(t, strings.Replace(testCatalog, "    max_event_age: 1h\n", "", 1)) // 35 days
	if w := (Options{Catalog: noMaxAge}).Warnings(); len(w) != 1 || !strings.Contains(w[0], "PRD-TEST-0001") {
		t.Errorf("default horizon over the default 35-day max event age: want a warning naming the product, have %q", w)
	}
	var out bytes.Buffer
	args := []string{"-validate", "--catalog", env.catalogPath, "--dedup-horizon", "30m"}
	if err := Run(context.Background(), args, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "warning: dedup horizon 30m0s is shorter than the max event age (up to 1h0m0s) of products PRD-TEST-0001") ||
		!strings.Contains(s, "configuration ok") {
		t.Errorf("-validate output lacks the warning (or the verdict):\n%s", s)
	}
	var logs lockedBuffer
	o.DedupHorizon, o.Logger = 30*time.Minute, slog.New(slog.NewJSONHandler(&logs, nil))
	stop := startWorker(t, env.conn, o)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "is shorter than the max event age") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"dedup horizon 30m0s is shorter`) {
		t.Errorf("the worker did not warn at start:\n%s", logs.String())
	}
}
