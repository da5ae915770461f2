package main

import (
	"context"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/benchmark/aggregator"
	"github.com/usagepipe/usagepipe/internal/benchmark/explain"
	"github.com/usagepipe/usagepipe/internal/benchmark/ingest"
	"github.com/usagepipe/usagepipe/internal/benchmark/pipeline"
	"github.com/usagepipe/usagepipe/internal/benchmark/submitter"
)

// benchmarks lists the "usagepipe bench" targets; each is its own package, internal/benchmark/<name>.
var benchmarks = map[string]func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error{
	"ingest":     ingest.Run,
	"aggregator": aggregator.Run,
	"submitter":  submitter.Run,
	"explain":    explain.Command,
	"pipeline":   pipeline.Command,
}

// benchUsage is what "usagepipe bench -h" prints.
const benchUsage = `usage: usagepipe bench ingest|aggregator|submitter|explain|pipeline [flags]
  ingest, aggregator, submitter and explain start their own embedded JetStream, print their rounds and end
  with a RESULT line; pipeline runs the whole system as processes under an open-loop load, steps the rate up
  until it no longer keeps up, soaks at half that rate, and ends with a RESULT line;
  "usagepipe bench <name> -h" lists its flags
`

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: name one of ingest, aggregator, submitter, explain, pipeline")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q", args[0])
	}
	return b(ctx, args[1:], getenv, stdout)
}
