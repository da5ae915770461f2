package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// flags are the aggregator command line's own flags (each also read from USAGEPIPE_<NAME>); the shared ones
// (NATS, --metrics-addr, --provision, --log-level) are internal/startup's.
type flags struct {
	catalog string
	opts    Options
}

func (f *flags) declare(fs *config.FlagSet) {
	o := &f.opts
	fs.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML); required")
	fs.StringVar(&o.MemberID, "member-id", DefaultMemberID(), "this worker's member id (unique in the group)")
	fs.DurationVar(&o.DedupHorizon, "dedup-horizon", DefaultDedupHorizon, "how long (arrival time) an event id is remembered")
	fs.DurationVar(&o.CommitInterval, "commit-interval", DefaultCommitInterval, "commit pending output at least this often")
	fs.DurationVar(&o.ProgressCommitInterval, "progress-commit-interval", DefaultProgressCommitInterval,
		"commit at least this often while the pending output holds no closed record or mark (progress, adjustments, dead letters)")
	fs.IntVar(&o.CommitMessages, "commit-messages", DefaultCommitMessages, "commit after this many source messages")
	fs.DurationVar(&o.SnapshotInterval, "snapshot-interval", DefaultSnapshotInterval, "snapshot a partition at most this often...")
	fs.IntVar(&o.SnapshotEvents, "snapshot-events", DefaultSnapshotEvents, "...or after this many events")
	fs.DurationVar(&o.Heartbeat, "heartbeat", DefaultHeartbeat, "member heartbeat and lease renewal period")
	fs.DurationVar(&o.LeaseTTL, "lease-ttl", DefaultLeaseTTL, "member and lease expiry after the last renewal")
	fs.DurationVar(&o.TickInterval, "tick-interval", DefaultTickInterval, "minimum time between ticks of an idle partition")
	fs.BoolVar(&o.NoTicks, "no-ticks", false, "never publish ticks (deterministic replays and tests)")
	fs.IntVar(&o.MaxCommits, "max-concurrent-commits", DefaultMaxConcurrentCommits,
		"atomic batches this worker has open at once (the server allows 50 per stream: keep the sum over workers ≤ 50)")
}

// check loads the catalog and reports every configuration problem at once.
func (f *flags) check() error {
	var errs []error
	if f.catalog == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalog); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		f.opts.Catalog = c
	}
	if f.opts.MemberID == "" {
		errs = append(errs, errors.New("--member-id is empty"))
	}
	errs = append(errs, f.opts.withDefaults().checkTiming())
	return errors.Join(errs...)
}

// command is the aggregator as internal/startup runs it.
func command() startup.Command {
	f := &flags{}
	return startup.Command{
		Name: "aggregator", Uses: startup.Uses{Telemetry: true, NATS: true, Provision: true, OpsAddr: ":9102"},
		Flags: f.declare, Check: f.check, Warnings: func() []string { return f.opts.Warnings() }, Serve: f.serve,
		ConnName: func() string { return "aggregator-" + f.opts.MemberID },
	}
}

// Run is the aggregator command: it parses args (flags with USAGEPIPE_* fallbacks read through getenv), logs
// JSON to stdout, serves /metrics, and works until ctx is cancelled; then it commits what is pending, releases
// its partitions and flushes telemetry. With -validate it checks the configuration and catalog and returns.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return startup.Run(ctx, command(), args, getenv, stdout)
}

// serve runs the worker on the connection internal/startup made until ctx ends.
func (f *flags) serve(ctx context.Context, env startup.Env) error {
	o := f.opts
	o.Partitions, o.EventsMaxAge, o.OpsAddr = env.NATS.Partitions, env.NATS.Topology().EventsMaxAge, env.OpsAddr
	o.Logger, o.TracerProvider, o.MeterProvider = env.Tel.Logger, env.Tel.TracerProvider(), env.Tel.MeterProvider()
	w, err := New(env.Conn, o)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
