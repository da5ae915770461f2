package aggregator_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/aggregator"
	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
)

// A small run catches up on every event and ends with a RESULT line of positive rates.
func TestASmallRunEndsWithAResult(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	args := []string{"--events", "5000", "--subscriptions", "200", "--events-per-request", "100", "--partitions", "4"}
	if err := aggregator.Run(ctx, args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	r, err := harness.ResultFigures(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aggregator_events_per_s", "raw_consume_msgs_per_s", "ratio"} {
		if r[name] <= 0 {
			t.Errorf("%s: want a positive figure, have %v\n%s", name, r[name], out.String())
		}
	}
}
