package aggregator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// flags are the aggregator command line (each also read from USAGEPIPE_<NAME>).
type flags struct {
	set         *config.FlagSet
	nats        *config.NATS
	catalog     string
	metricsAddr string
	provision   bool
	logLevel    slog.Level
	opts        Options
}

func newFlags(getenv func(string) string, out io.Writer) *flags {
	f := &flags{set: config.NewFlagSet("aggregator", getenv)}
	fs, o := f.set, &f.opts
	fs.SetOutput(out)
	fs.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML); required")
	fs.StringVar(&o.MemberID, "member-id", DefaultMemberID(), "this worker's member id (unique in the group)")
	fs.DurationVar(&o.DedupHorizon, "dedup-horizon", DefaultDedupHorizon, "how long (arrival time) an event id is remembered")
	fs.DurationVar(&o.CommitInterval, "commit-interval", DefaultCommitInterval, "commit pending output at least this often")
	fs.IntVar(&o.CommitMessages, "commit-messages", DefaultCommitMessages, "commit after this many source messages")
	fs.DurationVar(&o.SnapshotInterval, "snapshot-interval", DefaultSnapshotInterval, "snapshot a partition at most this often...")
	fs.IntVar(&o.SnapshotEvents, "snapshot-events", DefaultSnapshotEvents, "...or after this many events")
	fs.DurationVar(&o.Heartbeat, "heartbeat", DefaultHeartbeat, "member heartbeat and lease renewal period")
	fs.DurationVar(&o.LeaseTTL, "lease-ttl", DefaultLeaseTTL, "member and lease expiry after the last renewal")
	fs.DurationVar(&o.TickInterval, "tick-interval", DefaultTickInterval, "minimum time between ticks of an idle partition")
	fs.BoolVar(&o.NoTicks, "no-ticks", false, "never publish ticks (deterministic replays and tests)")
	fs.IntVar(&o.MaxCommits, "max-concurrent-commits", DefaultMaxConcurrentCommits,
		"atomic batches this worker has open at once (the server allows 50 per stream: keep the sum over workers ≤ 50)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", ":9102", "listen address of /metrics, /healthz and /readyz (empty: none)")
	fs.BoolVar(&f.provision, "provision", true, "create or update the streams and buckets at start")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "minimum log level: DEBUG, INFO, WARN or ERROR")
	f.nats = config.AddNATS(fs)
	return f
}

// check loads the catalog and reports every configuration problem at once.
func (f *flags) check() error {
	errs := []error{f.nats.Check()}
	f.opts.Partitions = f.nats.Partitions
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

// Run is the aggregator command: it parses args (flags with USAGEPIPE_* fallbacks read through getenv), logs
// JSON to stdout, serves /metrics, and works until ctx is cancelled; then it commits what is pending, releases
// its partitions and flushes telemetry. With -validate it checks the configuration and catalog and returns.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags(getenv, stdout)
	if err := f.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("aggregator: %w", err)
	}
	problems := f.check()
	if f.set.ValidateOnly() {
		for _, w := range f.opts.Warnings() {
			fmt.Fprintf(stdout, "aggregator: warning: %s\n", w)
		}
		return f.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("aggregator: invalid configuration: %w", problems)
	}
	tel, err := telemetry.Setup(ctx, telemetry.Options{Service: "aggregator", Getenv: getenv, LogOutput: stdout, LogLevel: f.logLevel})
	if err != nil {
		return fmt.Errorf("aggregator: %w", err)
	}
	err = serve(ctx, f, tel)
	return errors.Join(err, tel.Shutdown())
}

// serve connects, provisions, serves /metrics and runs the worker until ctx ends.
func serve(ctx context.Context, f *flags, tel *telemetry.Telemetry) error {
	conn, err := bus.Connect(ctx, f.nats.Bus("aggregator-"+f.opts.MemberID, tel.Logger))
	if err != nil {
		return fmt.Errorf("aggregator: %w", err)
	}
	defer conn.Close()
	if f.provision {
		if err := conn.Provision(ctx, f.nats.Topology()); err != nil {
			return fmt.Errorf("aggregator: %w", err)
		}
	}
	o := f.opts
	if f.metricsAddr != "" {
		bound, stop, err := tel.ServeOps(f.metricsAddr, telemetry.OpsProbes{Healthy: conn.Healthy, Ready: conn.Ready})
		if err != nil {
			return fmt.Errorf("aggregator: %w", err)
		}
		defer stop()
		o.OpsAddr = bound
	}
	o.EventsMaxAge = f.nats.Topology().EventsMaxAge
	o.Logger, o.TracerProvider, o.MeterProvider = tel.Logger, tel.TracerProvider(), tel.MeterProvider()
	w, err := New(conn, o)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
