package submitter

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// DefaultMetricsAddr is where /metrics and /healthz listen by default.
const DefaultMetricsAddr = ":9103"

// flags are the submitter command line (each also read from USAGEPIPE_<NAME>).
type flags struct {
	set         *config.FlagSet
	nats        *config.NATS
	catalog     string
	metricsAddr string
	provision   bool
	logLevel    slog.Level
	opts        Options
	operator    *opsapi.ListenerFlags
}

func newFlags(getenv func(string) string, out io.Writer) *flags {
	f := &flags{set: config.NewFlagSet("submitter", getenv)}
	fs, o := f.set, &f.opts
	fs.SetOutput(out)
	fs.StringVar(&o.ConnectURL, "connect-url", "", "Connect API base URL, e.g. https://api.connect.cloudblue.com/public/v1; required")
	fs.Secret(&o.ConnectAPIKey, "connect-api-key", "Connect API key (SU-…:…); required")
	fs.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML); required")
	fs.StringVar(&f.metricsAddr, "metrics-addr", DefaultMetricsAddr, "listen address of /metrics, /healthz and /readyz (empty: none)")
	fs.IntVar(&o.MaxRecordsPerFile, "max-records-per-file", DefaultMaxRecordsPerFile, "records per usage file; larger periods are split into parts")
	fs.IntVar(&o.Concurrency, "concurrency", DefaultConcurrency, "usage files driven at once")
	fs.StringVar(&o.MemberID, "member-id", DefaultMemberID(), "this submitter's name in ledger leases (unique among running submitters)")
	fs.DurationVar(&o.SupplementDelay, "supplement-delay", DefaultSupplementDelay, "how long adjustments wait (from their commit) to be batched into one supplement; those that arrive while the file before it is not yet submitted wait for it and make one supplement too")
	fs.DurationVar(&o.LeaseTTL, "lease-ttl", DefaultLeaseTTL, "how long a ledger entry stays claimed after its claimant's last write")
	fs.DurationVar(&o.ScanInterval, "scan-interval", DefaultScanInterval, "how often the ledger is scanned for entries to drive")
	fs.DurationVar(&o.FollowMaxInterval, "follow-max-interval", DefaultFollowMax, "longest wait between two reads of a file pending at the provider")
	fs.DurationVar(&o.RetryMaxInterval, "retry-max-interval", DefaultRetryMax, "longest wait before retrying a failed step")
	fs.DurationVar(&o.AckWait, "ack-wait", DefaultAckWait, "AckWait of the mark and adjustment consumers (redelivery after a crash)")
	fs.DurationVar(&o.PlanGrace, "plan-grace", DefaultPlanGrace, "how long a period with missing records (or a product missing from the catalog) is retried before it is parked as failed")
	fs.DurationVar(&o.OrphanInterval, "orphan-interval", DefaultOrphanInterval, "how often open usagepipe files in Connect are checked against the ledger (orphan drafts deleted)")
	fs.DurationVar(&o.RetentionInterval, "retention-interval", DefaultRetentionInterval, "how often what USAGE_AGG and USAGE_DLQ no longer need is purged (billed periods, resolved dead letters…); 0: never")
	fs.DurationVar(&o.RetentionMinAge, "retention-min-age", DefaultRetentionMinAge, "retention never removes a message stored within this (reconcile's and explain's window)")
	fs.IntVar(&o.MaxExcluded, "max-excluded", DefaultMaxExcluded, "most records one file may dead-letter before it is parked")
	fs.DurationVar(&o.Retry.ListLag, "connect-list-lag", usageapi.DefaultRetryPolicy.ListLag, "how far Connect's file list may lag behind a create (waited out after a create of unknown outcome); at most a quarter of half the lease ttl")
	fs.BoolVar(&f.provision, "provision", true, "create or update the streams and buckets at start")
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "minimum log level: DEBUG, INFO, WARN or ERROR")
	f.nats = config.AddNATS(fs)
	f.operator = opsapi.AddFlags(fs)
	return f
}

// check loads the catalog and reports every configuration problem at once.
func (f *flags) check() error {
	_, opErr := f.operator.Check()
	errs := []error{f.nats.Check(), f.opts.withDefaults().checkLimits(), opErr}
	if f.catalog == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalog); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		f.opts.Catalog = c
	}
	if f.opts.ConnectURL == "" {
		errs = append(errs, errors.New("--connect-url is required"))
	}
	if f.opts.ConnectAPIKey == "" {
		errs = append(errs, errors.New("--connect-api-key is required (prefer USAGEPIPE_CONNECT_API_KEY)"))
	}
	if f.opts.ConnectURL != "" && f.opts.ConnectAPIKey != "" {
		if _, err := usageapi.New(f.opts.ConnectURL, f.opts.ConnectAPIKey); err != nil {
			errs = append(errs, fmt.Errorf("--connect-url/--connect-api-key: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Run is the submitter command: it parses args (flags with USAGEPIPE_* fallbacks read through getenv), logs
// JSON to stdout, serves /metrics and /healthz, and works until ctx is cancelled; then it lets running steps
// end (or stops them: the ledger resumes them) and flushes telemetry. With -validate it checks the
// configuration and the catalog and returns.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags(getenv, stdout)
	if err := f.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("submitter: %w", err)
	}
	problems := f.check()
	if f.set.ValidateOnly() {
		for _, w := range events.ScheduleWarnings(f.opts.Catalog) {
			fmt.Fprintln(stdout, "warning:", w)
		}
		return f.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("submitter: invalid configuration: %w", problems)
	}
	tel, err := telemetry.Setup(ctx, telemetry.Options{Service: "submitter", Getenv: getenv, LogOutput: stdout, LogLevel: f.logLevel})
	if err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	err = serve(ctx, f, tel)
	return errors.Join(err, tel.Shutdown())
}

// serve connects, provisions, serves /metrics and runs the submitter until ctx ends.
func serve(ctx context.Context, f *flags, tel *telemetry.Telemetry) error {
	conn, err := bus.Connect(ctx, f.nats.Bus("submitter-"+f.opts.MemberID, tel.Logger))
	if err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	defer conn.Close()
	if f.provision {
		if err := conn.Provision(ctx, f.nats.Topology()); err != nil {
			return fmt.Errorf("submitter: %w", err)
		}
	}
	o := f.opts
	if f.metricsAddr != "" {
		bound, stop, err := tel.ServeOps(f.metricsAddr, telemetry.OpsProbes{Healthy: conn.Healthy, Ready: conn.Ready})
		if err != nil {
			return fmt.Errorf("submitter: %w", err)
		}
		defer stop()
		o.OpsAddr = bound
	}
	o.Logger, o.TracerProvider, o.MeterProvider = tel.Logger, tel.TracerProvider(), tel.MeterProvider()
	s, err := New(conn, o)
	if err != nil {
		return err
	}
	if err := serveOperator(ctx, f, conn, tel); err != nil {
		return err
	}
	return s.Run(ctx)
}

// serveOperator serves the operator API (--operator-addr) over the submitter's connection, catalog and Connect.
func serveOperator(ctx context.Context, f *flags, conn *bus.Conn, tel *telemetry.Telemetry) error {
	if f.operator.Addr == "" {
		return nil
	}
	client, err := usageapi.New(f.opts.ConnectURL, f.opts.ConnectAPIKey)
	if err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	rc := opsapi.ReadConfig{Catalog: f.opts.Catalog, Partitions: f.nats.Partitions, Connect: client}
	if _, err := f.operator.Start(ctx, conn, rc, tel.Logger); err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	return nil
}
