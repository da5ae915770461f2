package main

import (
	"context"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/status"
)

// runStatus prints the whole system's state; with --check it fails (exit status 1) when there is a problem.
func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o status.Options
	var check bool
	return runRead(ctx, readCommand{name: "status",
		flags: func(fs *config.FlagSet) {
			fs.BoolVar(&check, "check", false, "exit with status 1 when there is a problem (for scripts and probes)")
			fs.IntVar(&o.PeriodsBack, "periods", status.DefaultPeriodsBack, "periods shown per product and contract before the current one")
			fs.DurationVar(&o.OverdueAfter, "overdue-after", status.DefaultOverdueAfter, "a period not reported this long after its close is a problem")
			fs.DurationVar(&o.MaxLag, "max-lag", status.DefaultMaxLag, "a partition whose committed output is further behind is a problem")
			fs.DurationVar(&o.DeadLetterWindow, "dead-letter-window", status.DefaultDeadLetterWindow, "dead letters stored within this window are a problem")
		},
		work: func(ctx context.Context, env *readEnv) error {
			o.Catalog, o.Partitions = env.cfg.Catalog, env.cfg.Partitions
			r, err := status.Build(ctx, env.Conn, o)
			if err != nil {
				return err
			}
			if err := env.show(r); err != nil {
				return err
			}
			if check && !r.OK() {
				return fmt.Errorf("%d problem%s", len(r.Problems), map[bool]string{true: "", false: "s"}[len(r.Problems) == 1])
			}
			return nil
		},
	}, args, getenv, stdout)
}
