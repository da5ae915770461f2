package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/parked"
)

// runParked lists parked files and resolves them: usagepipe parked list|show|retry|resubmit|abandon.
func runParked(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: usagepipe parked list|show <key>|retry <key>|resubmit <key>|abandon <key> --note … [flags] " +
		"(usagepipe parked <subcommand> -h lists its flags)"
	if len(args) == 0 {
		return errors.New(usage)
	}
	verb, args := args[0], args[1:]
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	f := newWriteFlags("parked "+verb, getenv, stdout)
	var all bool
	var product, reason, note string
	switch verb {
	case "list":
		f.set.BoolVar(&all, "all", false, "abandoned entries too")
		f.set.StringVar(&product, "product", "", "only entries of this product")
		f.set.StringVar(&reason, "reason", "", "only entries parked for this reason (rejected, records_missing, file_gone…)")
	case "show":
	case parked.ActionRetry, parked.ActionResubmit, parked.ActionAbandon:
		f.set.StringVar(&note, "note", "", "why (recorded with the action; required to abandon)")
	default:
		return fmt.Errorf("parked: unknown subcommand %q: list, show, retry, resubmit or abandon", verb)
	}
	want := 1
	if verb == "list" {
		want = 0
	}
	pos, err := f.parse(args, want)
	if err != nil {
		return err
	}
	return f.with(ctx, func(ctx context.Context, env *writeEnv) error {
		var files parked.Files
		if env.connect != nil {
			files = env.connect
		}
		svc, err := parked.New(env.ledger, env.conn, files, env.catalog)
		if err != nil {
			return err
		}
		var out textWriter
		switch verb {
		case "list":
			out, err = svc.List(ctx, parked.ListFilter{All: all, Product: product, Reason: reason})
		case "show":
			out, err = svc.Show(ctx, pos[0])
		case parked.ActionRetry:
			out, err = svc.Retry(ctx, pos[0], env.actor, note)
		case parked.ActionResubmit:
			out, err = svc.Resubmit(ctx, pos[0], env.actor, note)
		default:
			out, err = svc.Abandon(ctx, pos[0], env.actor, note)
		}
		if err != nil {
			return fmt.Errorf("parked %s: %w", verb, err)
		}
		return f.show(stdout, out)
	})
}
