package explain

import (
	"context"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
)

// Command is `usagepipe bench explain`: it parses args (flags with USAGEPIPE_* fallbacks read through getenv)
// and runs the benchmark, writing to stdout.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("bench explain", getenv)
	f.SetOutput(stdout)
	o := Options{Out: stdout}
	f.IntVar(&o.Events, "events", 10_000_000, "events to fill the stream with")
	f.IntVar(&o.Subscriptions, "subscriptions", 100_000, "distinct subscriptions")
	f.IntVar(&o.PerRequest, "events-per-request", 500, "events per simulated ingest request (one packet per partition)")
	f.IntVar(&o.Partitions, "partitions", 16, "event partitions")
	f.IntVar(&o.Explains, "explains", 200, "explain queries timed")
	f.IntVar(&o.Usages, "usages", 1000, "usage queries timed")
	if err := f.Parse(args); err != nil {
		return err
	}
	return Run(ctx, o)
}
