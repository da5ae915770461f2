package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/usagepipe/usagepipe/internal/chaos"
	"github.com/usagepipe/usagepipe/internal/config"
)

// runChaos runs the real system as processes, kills them and injects Connect faults while a known workload
// goes through, then reconciles Connect against the ground truth (internal/chaos). The last line printed is
// the RESULT line; the command fails unless the run is ok.
func runChaos(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, validateOnly, err := chaosConfig(args, getenv, stdout)
	switch {
	case validateOnly && err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return nil
	case err != nil:
		return fmt.Errorf("chaos: %w", err)
	}
	res, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("chaos: not ok (run directory kept: %s)", res.Dir)
	}
	return nil
}

// chaosConfig parses the chaos flags (USAGEPIPE_* fallbacks) into a chaos.Config; with -validate it prints
// the settings and the verdict, and validateOnly is true.
func chaosConfig(args []string, getenv func(string) string, stdout io.Writer) (c chaos.Config, validateOnly bool, err error) {
	d := chaos.DefaultConfig
	c = d
	f := config.NewFlagSet("chaos", getenv)
	f.SetOutput(stdout)
	f.IntVar(&c.Events, "events", d.Events, "unique events of the workload")
	f.IntVar(&c.Subscriptions, "subscriptions", d.Subscriptions, "subscriptions (Connect assets), spread over the products")
	f.IntVar(&c.Products, "products", d.Products, "products (fixed periods of 4s, 6s and 12s with different aggregations, cycled)")
	f.DurationVar(&c.Duration, "duration", d.Duration, "send window: the events are planned evenly over it")
	f.Uint64Var(&c.Seed, "seed", d.Seed, "seed of the workload and the kill schedule")
	f.DurationVar(&c.KillEvery, "kill-every", d.KillEvery, "mean time between two worker SIGKILLs (negative: no kills)")
	f.Float64Var(&c.FaultRate, "fault-rate", d.FaultRate, "share of Connect requests that meet a fault (429, 500, 503, reset, commit-then-drop, and empty, null, html and redirect answers, served first or not)")
	f.DurationVar(&c.AcceptAfter, "accept-after", d.AcceptAfter, "how long the emulated provider takes to accept a submitted file")
	f.IntVar(&c.Cluster, "cluster", d.Cluster, "NATS nodes: 1, or 3 for a JetStream cluster with R3 streams")
	f.BoolVar(&c.Keep, "keep", false, "keep the run directory (stores and logs) even when the run passes")
	f.Float64Var(&c.DuplicateShare, "duplicates", d.DuplicateShare, "share of events sent twice")
	f.Float64Var(&c.LateShare, "late", d.LateShare, "share of events timed in a period that has already closed")
	f.DurationVar(&c.LateMax, "late-max", d.LateMax, "how far before its send a late event may be timed (0: its period, the lateness and up to 3s)")
	f.Var((*periodsFlag)(&c.Periods), "periods", "the products' fixed periods and lateness, cycled over the products: <every>+<lateness>,… (default: 4s+1s,6s+2s,12s+3s)")
	f.IntVar(&c.Ingests, "ingests", d.Ingests, "ingest processes")
	f.IntVar(&c.Aggregators, "aggregators", d.Aggregators, "aggregator processes")
	f.IntVar(&c.Submitters, "submitters", d.Submitters, "submitter processes")
	f.IntVar(&c.Partitions, "partitions", d.Partitions, "event partitions")
	f.DurationVar(&c.SettleTimeout, "settle-timeout", d.SettleTimeout, "how long to wait for Connect to settle once the last period closed")
	f.BoolVar(&c.DeadLetters, "dead-letters", d.DeadLetters, "hold a product back from the pipeline's catalog and assets from Connect's, then fix both and replay the dead letters: the verdict comes after the replay")
	f.StringVar(&c.WorkDir, "work-dir", "", "where the run directory is created (default: the system temp directory)")
	f.StringVar(&c.BinDir, "bin-dir", "", "prebuilt ingest, aggregator, submitter and usagepipe binaries (default: go build ./cmd/...)")
	if err := f.Parse(args); err != nil {
		return c, false, err
	}
	c.Out = stdout
	if f.ValidateOnly() {
		return c, true, f.Validate(stdout, c.Check())
	}
	return c, false, c.Check()
}

// periodsFlag is the --periods flag: period shapes written <every>+<lateness>,…
type periodsFlag []chaos.PeriodShape

func (p *periodsFlag) Set(v string) (err error) {
	*p, err = chaos.ParsePeriods(v)
	return err
}

func (p *periodsFlag) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}
