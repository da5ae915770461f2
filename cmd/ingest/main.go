// Command ingest is usagepipe's ingest service: producers POST CloudEvents usage events, and each accepted
// event is durably stored in JetStream before the answer. Flags fall back to USAGEPIPE_* variables; run
// "ingest -h" for the list and "ingest -validate" to check a configuration.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/usagepipe/usagepipe/internal/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := ingest.Run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}
