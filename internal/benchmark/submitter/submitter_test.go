package submitter_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/benchmark/submitter"
)

// A small run gets every period's file submitted and ends with a RESULT line counting its records.
func TestASmallRunEndsWithAResult(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	args := []string{"--subscriptions", "50", "--items", "2", "--periods", "2", "--partitions", "4"}
	if err := submitter.Run(ctx, args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	r, err := harness.ResultFigures(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if r["records"] != 100 || r["submit_p50_ms"] <= 0 || r["submit_p99_ms"] < r["submit_p50_ms"] {
		t.Errorf("want 100 records and 0 < p50 ≤ p99, have %v\n%s", r, out.String())
	}
}
