package startup

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// RunFunc is a command run by [Main]: it parses args, reads the environment through getenv, writes to stdout
// and works until ctx ends. Its errors name it already ([Run]'s do).
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error

// Main is a binary's main: it runs run with the process's arguments and environment until SIGINT or SIGTERM,
// and on an error prints it to stderr as it is and exits with status 1.
func Main(run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
