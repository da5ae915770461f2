package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/status"
)

// runStatus prints the whole system's state; with --check it fails (exit status 1) when there is a problem.
func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newOperatorFlags("status", getenv, stdout)
	var o status.Options
	var check bool
	f.set.BoolVar(&check, "check", false, "exit with status 1 when there is a problem (for scripts and probes)")
	f.set.IntVar(&o.PeriodsBack, "periods", status.DefaultPeriodsBack, "periods shown per product and contract before the current one")
	f.set.DurationVar(&o.OverdueAfter, "overdue-after", status.DefaultOverdueAfter, "a period not reported this long after its close is a problem")
	f.set.DurationVar(&o.MaxLag, "max-lag", status.DefaultMaxLag, "a partition whose committed output is further behind is a problem")
	f.set.DurationVar(&o.DeadLetterWindow, "dead-letter-window", status.DefaultDeadLetterWindow, "dead letters stored within this window are a problem")
	if err := f.set.Parse(args); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	c, err := f.readConfig()
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	o.Catalog, o.Partitions = c.Catalog, c.Partitions
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	conn, err := bus.Connect(ctx, f.nats.Bus("usagepipe-status", slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	defer conn.Close()
	r, err := status.Build(ctx, conn, o)
	if err != nil {
		return err
	}
	if err := f.print(stdout, r); err != nil {
		return err
	}
	if check && !r.OK() {
		return fmt.Errorf("status: %d problem%s", len(r.Problems), map[bool]string{true: "", false: "s"}[len(r.Problems) == 1])
	}
	return nil
}
