// Command aggregator is the usagepipe aggregator worker: it owns some of the event partitions, folds them into
// closed-period records and commits them exactly once to USAGE_AGG. Flags and USAGEPIPE_* variables are
// described by -h; the work is internal/aggregator's.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/usagepipe/usagepipe/internal/aggregator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := aggregator.Run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
