package submitter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// DefaultMetricsAddr is where /metrics and /healthz listen by default.
const DefaultMetricsAddr = ":9103"

// flags are the submitter command line's own flags (each also read from USAGEPIPE_<NAME>); the shared ones
// (NATS, --metrics-addr, --provision, --log-level) are internal/startup's.
type flags struct {
	catalog     string
	opts        Options
	operator    *opsapi.ListenerFlags
	statusEvery time.Duration
}

func (f *flags) declare(fs *config.FlagSet) {
	o := &f.opts
	fs.StringVar(&o.ConnectURL, "connect-url", "", "Connect API base URL, e.g. https://api.connect.cloudblue.com/public/v1; required")
	fs.Secret(&o.ConnectAPIKey, "connect-api-key", "Connect API key (SU-…:…); required")
	fs.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML); required")
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
	f.operator = opsapi.AddFlags(fs)
	fs.DurationVar(&f.statusEvery, "status-every", status.DefaultExportEvery, "how often the system view (usagepipe status) is read for the usagepipe_status_* gauges the alerts use; 0: not exported")
	fs.DurationVar(&o.Retry.ListLag, "connect-list-lag", usageapi.DefaultRetryPolicy.ListLag, "how far Connect's file list may lag behind a create (waited out after a create of unknown outcome); at most a quarter of half the lease ttl")
}

// check loads the catalog and reports every configuration problem at once.
func (f *flags) check() error {
	_, opErr := f.operator.Check()
	errs := []error{f.opts.withDefaults().checkLimits(), opErr}
	if f.catalog == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalog); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		f.opts.Catalog = c
	}
	if f.statusEvery < 0 {
		errs = append(errs, errors.New("--status-every must not be negative (0: the gauges are not exported)"))
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

// command is the submitter as internal/startup runs it.
func command() startup.Command {
	f := &flags{}
	return startup.Command{
		Name: "submitter", Uses: startup.Uses{Telemetry: true, NATS: true, Provision: true, OpsAddr: DefaultMetricsAddr},
		Flags: f.declare, Check: f.check, Serve: f.serve,
		Warnings: func() []string { return startup.ScheduleWarnings(f.opts.Catalog) },
		ConnName: func() string { return "submitter-" + f.opts.MemberID },
	}
}

// Run is the submitter command: it parses args (flags with USAGEPIPE_* fallbacks read through getenv), logs
// JSON to stdout, serves /metrics and /healthz, and works until ctx is cancelled; then it lets running steps
// end (or stops them: the ledger resumes them) and flushes telemetry. With -validate it checks the
// configuration and the catalog and returns.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return startup.Run(ctx, command(), args, getenv, stdout)
}

// serve runs the submitter on the connection internal/startup made until ctx ends.
func (f *flags) serve(ctx context.Context, env startup.Env) error {
	o := f.opts
	o.OpsAddr = env.OpsAddr
	o.Logger, o.TracerProvider, o.MeterProvider = env.Tel.Logger, env.Tel.TracerProvider(), env.Tel.MeterProvider()
	s, err := New(env.Conn, o)
	if err != nil {
		return err
	}
	if err := f.serveOperator(ctx, env); err != nil {
		return err
	}
	stopStatus, err := f.exportStatus(ctx, env)
	if err != nil {
		return err
	}
	defer stopStatus()
	return s.Run(ctx)
}

// exportStatus reads the system view every --status-every and serves it as the usagepipe_status_* gauges
// (internal/status.Exporter) until ctx ends or stop is called; stop waits for the reader to end.
func (f *flags) exportStatus(ctx context.Context, env startup.Env) (stop func(), err error) {
	if f.statusEvery <= 0 {
		return func() {}, nil
	}
	r := status.Reader{Bus: env.Conn, Options: status.Options{Catalog: f.opts.Catalog, Partitions: env.NATS.Partitions}}
	e, err := status.NewExporter(r, env.Tel.MeterProvider())
	if err != nil {
		return nil, fmt.Errorf("status metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, f.statusEvery, env.Tel.Logger)
	}()
	return func() { cancel(); <-done }, nil
}

// serveOperator serves the operator API (--operator-addr) over the submitter's connection, catalog and Connect.
func (f *flags) serveOperator(ctx context.Context, env startup.Env) error {
	if f.operator.Addr == "" {
		return nil
	}
	client, err := usageapi.New(f.opts.ConnectURL, f.opts.ConnectAPIKey)
	if err != nil {
		return err
	}
	rc := opsapi.ReadConfig{Catalog: f.opts.Catalog, Partitions: env.NATS.Partitions, Connect: client}
	_, err = f.operator.Start(ctx, env.Conn, rc, env.Tel.Logger)
	return err
}
