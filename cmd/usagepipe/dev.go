package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// devFlags are the dev command line (each also read from USAGEPIPE_<NAME>).
type devFlags struct {
	set          *config.FlagSet
	opts         devstack.Options
	statusEvery  time.Duration
	ingestKeys   string
	operatorKeys string
}

func newDevFlags(getenv func(string) string, out io.Writer) *devFlags {
	f := &devFlags{set: config.NewFlagSet("dev", getenv)}
	fs, o := f.set, &f.opts
	fs.SetOutput(out)
	fs.StringVar(&o.DataDir, "data", "./"+devstack.DefaultDataDir, "data directory: JetStream store, emulator state, log")
	fs.BoolVar(&o.Fresh, "fresh", false, "wipe the data directory first (only one a dev stack created)")
	fs.BoolVar(&o.Simulate, "simulate", false, "post realistic usage (with duplicates and late events) to the ingest endpoint")
	fs.BoolVar(&o.KeepRejected, "keep-rejected", true, "ingest keeps the events it rejects for a curable reason as dead letters (usagepipe dlq list)")
	fs.DurationVar(&o.SimulateEvery, "simulate-every", devstack.DefaultSimulateEvery, "one simulator request this often")
	fs.StringVar(&o.IngestAddr, "ingest-addr", devstack.DefaultIngestAddr, "ingest HTTP listen address (without --ingest-api-keys, a loopback one only)")
	fs.Secret(&f.ingestKeys, "ingest-api-keys", "keys ingest accepts, as ingest's --api-keys (<key>:<source prefix> …, comma-separated); the simulator sends the first; none: no key, on loopback only")
	fs.StringVar(&o.EmulatorAddr, "emulator-addr", devstack.DefaultEmulatorAddr, "Connect emulator listen address")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", devstack.DefaultMetricsAddr, "listen address of /metrics/<service>")
	fs.StringVar(&o.NATSAddr, "nats-addr", devstack.DefaultNATSAddr, "embedded NATS client listen address")
	fs.StringVar(&o.OperatorAddr, "operator-addr", devstack.DefaultOperatorAddr, "operator API listen address (/api/v1/: explain, usage, status); no key needed from loopback")
	fs.Secret(&f.operatorKeys, "operator-keys", "operator keys (NAME=KEY, comma-separated), required when --operator-addr is not loopback")
	fs.IntVar(&o.Partitions, "partitions", devstack.DefaultPartitions, "event partitions (fixed for a data directory)")
	fs.Secret(&o.ConnectAPIKey, "connect-api-key", "API key the emulator accepts and the submitter sends (default the public dev key "+
		devstack.DefaultConnectAPIKey+", which is printed; another key never is)")
	fs.DurationVar(&o.ProcessingTime, "processing-time", devstack.DefaultProcessingTime, "how long the emulator processes an upload")
	fs.DurationVar(&o.AcceptAfter, "accept-after", devstack.DefaultAcceptAfter, "when the emulated provider accepts a submitted file")
	fs.DurationVar(&f.statusEvery, "status-every", 5*time.Second, "print the one-line summary this often")
	fs.TextVar(&o.LogLevel, "log-level", slog.LevelInfo, "minimum level of the JSON log: DEBUG, INFO, WARN or ERROR")
	return f
}

// check reports every configuration problem at once.
func (f *devFlags) check() error {
	var errs []error
	if f.opts.Partitions < 1 || f.opts.Partitions > 1024 {
		errs = append(errs, fmt.Errorf("--partitions %d: want 1..1024", f.opts.Partitions))
	}
	if f.statusEvery <= 0 || f.opts.SimulateEvery <= 0 {
		errs = append(errs, errors.New("--status-every and --simulate-every must be positive"))
	}
	keys, err := ingest.LoadAPIKeys("", f.ingestKeys)
	if err != nil {
		errs = append(errs, fmt.Errorf("--ingest-api-keys: %w", err))
	}
	f.opts.IngestAPIKeys = keys
	ops, err := opsapi.LoadKeys("", f.operatorKeys)
	if err != nil {
		errs = append(errs, fmt.Errorf("--operator-keys: %w", err))
	}
	f.opts.OperatorKeys = ops
	return errors.Join(errs...)
}

// runDev runs the whole system in one process until ctx is cancelled (Ctrl-C), printing where everything is
// and a one-line summary every few seconds; the work is internal/devstack's.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newDevFlags(getenv, stdout)
	if err := f.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("dev: %w", err)
	}
	problems := f.check()
	if f.set.ValidateOnly() {
		return f.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("dev: invalid configuration: %w", problems)
	}
	f.opts.Getenv = getenv
	stack, err := devstack.Start(ctx, f.opts)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	stack.PrintWhere(stdout)
	stack.PrintStatus(stdout, f.statusEvery)
	fmt.Fprintln(stdout, "stopping: services first, then the emulator and JetStream; state kept in", f.opts.DataDir)
	if err := stack.Wait(); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	return nil
}
