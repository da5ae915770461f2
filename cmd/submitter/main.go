// Command submitter is the usagepipe submitter worker: it turns closed usage periods into usage files in
// CloudBlue Connect and follows them until the provider decides. Flags and USAGEPIPE_* variables are
// described by -h; the work is internal/submitter's.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/usagepipe/usagepipe/internal/submitter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := submitter.Run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "submitter:", err)
		os.Exit(1)
	}
}
