package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/startup"
)

// devFlags are the dev command line (each also read from USAGEPIPE_<NAME>).
type devFlags struct {
	opts         devstack.Options
	statusEvery  time.Duration
	ingestKeys   string
	operatorKeys string
}

func (f *devFlags) declare(fs *config.FlagSet) {
	o := &f.opts
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
	fs.StringVar(&o.ConsoleAddr, "console-addr", devstack.DefaultConsoleAddr, "web console listen address; no key needed from loopback")
	fs.Secret(&f.operatorKeys, "operator-keys", "operator keys (NAME=KEY, comma-separated) of the operator API and the console, required when their address is not loopback")
	fs.IntVar(&o.Partitions, "partitions", devstack.DefaultPartitions, "event partitions (fixed for a data directory)")
	fs.Secret(&o.ConnectAPIKey, "connect-api-key", "API key the emulator accepts and the submitter sends (default the public dev key "+
		devstack.DefaultConnectAPIKey+", which is printed; another key never is)")
	fs.DurationVar(&o.ProcessingTime, "processing-time", devstack.DefaultProcessingTime, "how long the emulator processes an upload")
	fs.DurationVar(&o.AcceptAfter, "accept-after", devstack.DefaultAcceptAfter, "when the emulated provider accepts a submitted file")
	fs.DurationVar(&f.statusEvery, "status-every", 5*time.Second, "print the one-line summary this often")
	fs.TextVar(&o.LogLevel, "log-level", slog.LevelInfo, "minimum level of the JSON log: DEBUG, INFO, WARN or ERROR")
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
// and a one-line summary every few seconds; the work is internal/devstack's, which starts each service's
// stages itself (one embedded JetStream, in-process services).
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &devFlags{}
	return startup.Run(ctx, startup.Command{Name: "dev", Flags: f.declare, Check: f.check, Serve: f.serve}, args, getenv, stdout)
}

func (f *devFlags) serve(ctx context.Context, env startup.Env) error {
	f.opts.Getenv = env.Getenv
	stack, err := devstack.Start(ctx, f.opts)
	if err != nil {
		return err
	}
	stack.PrintWhere(env.Stdout)
	stack.PrintStatus(env.Stdout, f.statusEvery)
	fmt.Fprintln(env.Stdout, "stopping: services first, then the emulator and JetStream; state kept in", f.opts.DataDir)
	return stack.Wait()
}
