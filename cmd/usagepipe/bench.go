package main

import (
	"context"
	"fmt"
	"io"
)

// benchmarks lists the "usagepipe bench" targets; each lives in its own bench_<name>.go file.
var benchmarks = map[string]func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error{
	"ingest":     benchIngest,
	"aggregator": benchAggregator,
	"submitter":  benchSubmitter,
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: name one of ingest, aggregator, submitter")
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q", args[0])
	}
	return b(ctx, args[1:], getenv, stdout)
}
