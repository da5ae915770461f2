package startup

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Command is what one service states of its own; [Run] does the rest.
type Command struct {
	// Name names the service: its flag set, the prefix of its errors, its telemetry service name and, unless
	// ConnName says otherwise, its NATS connection name.
	Name string
	// Uses says which shared stages the service goes through; each declares its flags.
	Uses Uses
	// Flags declares the service's own flags on fs.
	Flags func(fs *config.FlagSet)
	// Check loads and checks the service's own configuration once the flags are parsed, reporting every
	// problem at once (the shared flags are checked by Run). Nil: nothing to check.
	Check func() error
	// Warnings are advice about a valid configuration, printed by -validate (nil: none).
	Warnings func() []string
	// ConnName is the NATS connection name, asked once the configuration is checked (nil: Name).
	ConnName func() string
	// Timeout bounds everything after the configuration check, connection included (nil or 0: no bound).
	Timeout func() time.Duration
	// Serve does the service's work until ctx ends; what the stages started is closed after it returns.
	Serve func(ctx context.Context, env Env) error
}

// Uses says which shared stages a [Command] goes through, and so which shared flags it has.
type Uses struct {
	Telemetry bool // --log-level; JSON logs to stdout, OpenTelemetry from the OTEL_* variables
	NATS      bool // the --nats-* flags, --partitions, --replicas, --events-max-age, --events-dedup-window
	Provision bool // --provision (default true): create or update the streams and buckets at start (needs NATS)
	// OpsAddr, when set, declares --metrics-addr with this default: where /metrics, /healthz and /readyz
	// listen (the flag set empty: no ops server). Needs Telemetry.
	OpsAddr string
}

// Env is what a service's Serve works with: what the stages started and the shared settings.
type Env struct {
	*Started
	NATS   *config.NATS // the NATS flags (nil without Uses.NATS)
	Stdout io.Writer
	Getenv func(string) string
}

// shared are the values of the shared flags.
type shared struct {
	set         *config.FlagSet
	nats        *config.NATS
	provision   bool
	logLevel    slog.Level
	metricsAddr string
}

// declare declares the shared flags the command uses, then the command's own.
func (c *Command) declare(getenv func(string) string, out io.Writer) *shared {
	sh := &shared{set: config.NewFlagSet(c.Name, getenv)}
	fs := sh.set
	fs.SetOutput(out)
	if c.Uses.Telemetry {
		fs.TextVar(&sh.logLevel, "log-level", slog.LevelInfo, "minimum log level: DEBUG, INFO, WARN or ERROR")
	}
	if c.Uses.OpsAddr != "" {
		fs.StringVar(&sh.metricsAddr, "metrics-addr", c.Uses.OpsAddr, "listen address of /metrics, /healthz and /readyz (empty: none)")
	}
	if c.Uses.Provision {
		fs.BoolVar(&sh.provision, "provision", true, "create or update the streams and buckets at start")
	}
	if c.Uses.NATS {
		sh.nats = config.AddNATS(fs)
	}
	if c.Flags != nil {
		c.Flags(fs)
	}
	return sh
}

// check reports every problem of the shared and the command's own flags at once.
func (c *Command) check(sh *shared) error {
	var errs []error
	if sh.nats != nil {
		errs = append(errs, sh.nats.Check())
	}
	if c.Check != nil {
		errs = append(errs, c.Check())
	}
	return errors.Join(errs...)
}

// stages are the stages the command uses, with the flags' values.
func (c *Command) stages(sh *shared, getenv func(string) string, stdout io.Writer) Stages {
	var st Stages
	if c.Uses.Telemetry {
		st.Telemetry = &telemetry.Options{Service: c.Name, Getenv: getenv, LogOutput: stdout, LogLevel: sh.logLevel}
		st.OpsAddr = sh.metricsAddr
	}
	if sh.nats != nil {
		name := c.Name
		if c.ConnName != nil {
			name = c.ConnName()
		}
		cfg := sh.nats.Bus(name, nil)
		st.Bus = &cfg
		if sh.provision {
			top := sh.nats.Topology()
			st.Provision = &top
		}
	}
	return st
}

// Run is the start-up path of the service c: it parses args (flags with USAGEPIPE_* fallbacks read through
// getenv; -h prints the help and --version the build to stdout and return nil), checks the configuration
// (-validate prints it, the warnings and the verdict to stdout and returns), starts the stages c uses, runs
// c.Serve until ctx ends, and closes the stages. Every error it returns starts with c.Name once.
func Run(ctx context.Context, c Command, args []string, getenv func(string) string, stdout io.Writer) error {
	return named(c.Name, run(ctx, c, args, getenv, stdout))
}

func run(ctx context.Context, c Command, args []string, getenv func(string) string, stdout io.Writer) error {
	sh := c.declare(getenv, stdout)
	if err := sh.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	problems := c.check(sh)
	if sh.set.ValidateOnly() {
		if c.Warnings != nil {
			for _, w := range c.Warnings() {
				fmt.Fprintln(stdout, "warning:", w)
			}
		}
		return sh.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("invalid configuration: %w", problems)
	}
	if c.Timeout != nil && c.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout())
		defer cancel()
	}
	started, err := Start(ctx, c.stages(sh, getenv, stdout))
	if err != nil {
		return err
	}
	err = c.Serve(ctx, Env{Started: started, NATS: sh.nats, Stdout: stdout, Getenv: getenv})
	return errors.Join(err, started.Close())
}

// named prefixes err with "name: " unless its message starts with it already (a service's package may name
// itself in its errors), so that the name appears once.
func named(name string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), name+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ScheduleWarnings is [events.ScheduleWarnings] of c as text: the -validate warnings of a service that
// reads a catalog.
func ScheduleWarnings(c *events.Catalog) []string {
	var out []string
	for _, w := range events.ScheduleWarnings(c) {
		out = append(out, w.String())
	}
	return out
}
