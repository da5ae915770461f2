package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
)

// Command is `usagepipe bench pipeline`: it parses args (flags with USAGEPIPE_* fallbacks read through
// getenv), runs the bench and prints its progress, summary and RESULT line to stdout. --quick starts from
// QuickConfig; flags given explicitly still win.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, f, err := parseFlags(DefaultConfig, args, getenv, stdout)
	if err == nil && c.quick {
		c, f, err = parseFlags(QuickConfig(), args, getenv, io.Discard)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return fmt.Errorf("bench pipeline: %w", err)
	case f.ValidateOnly():
		return f.Validate(stdout, c.Check())
	}
	c.Out = stdout
	_, err = Run(ctx, c.Config)
	return err
}

// flagConfig is a Config and the --quick flag.
type flagConfig struct {
	Config
	quick bool
}

// parseFlags declares the flags with defaults d and parses args.
func parseFlags(d Config, args []string, getenv func(string) string, out io.Writer) (flagConfig, *config.FlagSet, error) {
	c := flagConfig{Config: d}
	f := config.NewFlagSet("bench pipeline", getenv)
	f.SetOutput(out)
	f.BoolVar(&c.quick, "quick", false, "a CI-sized run of a few minutes: 10s periods, 15s steps, a one-minute soak (explicit flags still win)")
	f.StringVar(&c.BinDir, "bin-dir", "", "prebuilt ingest, aggregator, submitter and usagepipe binaries (default: go build ./cmd/...)")
	f.StringVar(&c.WorkDir, "work-dir", "", "where the run directory is created (default: the system temp directory)")
	f.BoolVar(&c.Keep, "keep", false, "keep the run directory (stores and logs) after a successful run")
	f.IntVar(&c.Partitions, "partitions", d.Partitions, "event partitions")
	f.IntVar(&c.Subscriptions, "subscriptions", d.Subscriptions, "distinct subscriptions")
	f.IntVar(&c.Products, "products", d.Products, "products (fixed periods, three summed items each)")
	f.Float64Var(&c.ZipfS, "zipf-s", d.ZipfS, "Zipf exponent of subscription popularity (> 1)")
	f.Float64Var(&c.ZipfV, "zipf-v", d.ZipfV, "Zipf offset of subscription popularity (≥ 1; larger flattens the head)")
	f.Float64Var(&c.DuplicateShare, "duplicates", d.DuplicateShare, "share of events sent twice")
	f.Float64Var(&c.LateShare, "late", d.LateShare, "share of events timed in a period that has already closed")
	f.IntVar(&c.Batch, "batch", d.Batch, "events per request")
	f.DurationVar(&c.Period, "period", d.Period, "the products' fixed period")
	f.DurationVar(&c.Lateness, "lateness", d.Lateness, "the products' allowed lateness")
	f.Uint64Var(&c.Seed, "seed", d.Seed, "seed of the workload")
	f.Float64Var(&c.StartRate, "start-rate", d.StartRate, "events/s of the first step")
	f.Float64Var(&c.StepFactor, "step-factor", d.StepFactor, "rate multiplier after a step passed")
	f.IntVar(&c.Refine, "refine", d.Refine, "bisection steps between the last pass and the first failure")
	f.IntVar(&c.Retries, "retries", d.Retries, "a failed step is run again this many times before its rate counts as failed")
	f.IntVar(&c.MaxSteps, "max-steps", d.MaxSteps, "steps at most (not counting retries)")
	f.DurationVar(&c.StepDuration, "step", d.StepDuration, "duration of each step")
	f.DurationVar(&c.GrowthWindow, "growth-window", d.GrowthWindow, "a consumer backlog growing this long fails a step")
	f.DurationVar(&c.P99Limit, "p99-limit", d.P99Limit, "an ingest p99 above this fails a step")
	f.DurationVar(&c.DrainTimeout, "drain-timeout", d.DrainTimeout, "how long to wait for the backlog to drain after a step")
	f.Float64Var(&c.SoakShare, "soak-share", d.SoakShare, "the soak's rate, as a share of the sustained rate")
	f.DurationVar(&c.Soak, "soak", d.Soak, "duration of the soak")
	f.DurationVar(&c.SettleTimeout, "settle-timeout", d.SettleTimeout, "after the soak's last period closed, how long to wait for its events in accepted files")
	f.IntVar(&c.MaxProbes, "max-probes", d.MaxProbes, "soak events followed to Connect (a uniform sample)")
	f.IntVar(&c.RawMessages, "raw-messages", d.RawMessages, "messages per round of the raw publish baseline")
	f.IntVar(&c.RawRounds, "raw-rounds", d.RawRounds, "rounds of the raw publish baseline (the best counts)")
	f.IntVar(&c.RawWindow, "raw-window", d.RawWindow, "messages per bus.PublishBatch call in the raw baseline")
	f.IntVar(&c.RawPublishers, "raw-publishers", d.RawPublishers, "concurrent publishers in the raw baseline")
	return c, f, f.Parse(args)
}
