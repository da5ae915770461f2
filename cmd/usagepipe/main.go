// Command usagepipe is the operator and developer CLI of usagepipe: it runs the whole system in one process
// (dev), the Connect emulator, an embedded NATS server, benchmarks, the chaos proof and reconciliation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/usagepipe/usagepipe/internal/buildinfo"
)

// command is one subcommand: it parses its own args and runs until done or ctx is cancelled.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error
}

// commands lists every subcommand. Each lives in its own file.
var commands = map[string]command{
	"dev":         {"run the whole system in one process (embedded JetStream, emulator, ingest, aggregator, submitter)", runDev},
	"emulator":    {"serve the Connect Usage API emulator", runEmulator},
	"nats":        {"run an embedded nats-server with JetStream", runNATS},
	"bench":       {"run a benchmark: bench ingest | aggregator | submitter | explain | pipeline", runBench},
	"chaos":       {"run the real system as processes, kill them, and prove nothing is lost or doubled", runChaos},
	"reconcile":   {"compare closed periods and the submitter ledger with what Connect reports", runReconcile},
	"dlq":         {"list, show and replay dead letters: dlq list | dlq show <id> | dlq replay [--execute]", runDLQ},
	"parked":      {"list and resolve parked files: parked list | show | retry | resubmit | abandon <key>", runParked},
	"healthcheck": {"GET a URL and fail unless it answers 2xx (container health checks)", runHealthcheck},
	"explain":     {"explain an event (--source --id), a record (--record) or a usage file (--file): where it is, counted or not, its file", runExplain},
	"usage":       {"a subscription's current usage (open periods from the aggregators, the last closed ones with their files)", runUsage},
	"status":      {"the whole system: periods, files, parked, dead letters, partitions, services; --check fails on problems", runStatus},
	"console":     {"serve the web console: overview, periods, files, subscriptions, explain, dead letters, parked", runConsole},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usagepipe:", err)
		os.Exit(1)
	}
}

// errUsage is returned when the command line names no known subcommand.
var errUsage = errors.New("usage: usagepipe <command> [flags]; run 'usagepipe help'")

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] == "version" || args[0] == "-version" || args[0] == "--version" {
		fmt.Fprintln(stdout, buildinfo.Read().String("usagepipe"))
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
	}
	err := cmd.run(ctx, args[1:], getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the command's usage: asking for help is not a failure
	}
	return err
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: usagepipe <command> [flags] | usagepipe --version\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
}
