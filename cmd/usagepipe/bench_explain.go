package main

import (
	"context"
	"io"

	"github.com/usagepipe/usagepipe/internal/benchmark/explain"
	"github.com/usagepipe/usagepipe/internal/config"
)

// benchExplain registers internal/benchmark/explain: explain and usage latency on a large stream.
func benchExplain(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("bench explain", getenv)
	f.SetOutput(stdout)
	o := explain.Options{Out: stdout}
	f.IntVar(&o.Events, "events", 10_000_000, "events to fill the stream with")
	f.IntVar(&o.Subscriptions, "subscriptions", 100_000, "distinct subscriptions")
	f.IntVar(&o.PerRequest, "events-per-request", 500, "events per simulated ingest request (one packet per partition)")
	f.IntVar(&o.Partitions, "partitions", 16, "event partitions")
	f.IntVar(&o.Explains, "explains", 200, "explain queries timed")
	f.IntVar(&o.Usages, "usages", 1000, "usage queries timed")
	if err := f.Parse(args); err != nil {
		return err
	}
	return explain.Run(ctx, o)
}
