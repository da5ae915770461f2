package ingest_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/benchmark/ingest"
)

// A small run measures both sides (and OTLP) and ends with a RESULT line of positive rates.
func TestASmallRunEndsWithAResult(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	args := []string{"--events", "2000", "--batch", "100", "--raw-messages", "2000", "--rounds", "2", "--partitions", "4", "--otlp"}
	if err := ingest.Run(ctx, args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	r, err := harness.ResultFigures(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ingest_events_per_s", "raw_publish_msgs_per_s", "ratio", "p99_ms", "otlp_events_per_s", "otlp_p99_ms"} {
		if r[name] <= 0 {
			t.Errorf("%s: want a positive figure, have %v\n%s", name, r[name], out.String())
		}
	}
}
