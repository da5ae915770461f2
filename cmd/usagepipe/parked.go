package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/parked"
)

// parkedUsage is the usage line of usagepipe parked.
const parkedUsage = "usage: usagepipe parked list|show <key>|retry <key>|resubmit <key>|abandon <key> --note … [flags] " +
	"(usagepipe parked <subcommand> -h lists its flags)"

// runParked lists parked files and resolves them: usagepipe parked list|show|retry|resubmit|abandon.
func runParked(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(parkedUsage)
	}
	verb, args := args[0], args[1:]
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		fmt.Fprintln(stdout, parkedUsage)
		return nil
	}
	f, o, err := newParkedFlags(verb, getenv, stdout)
	if err != nil {
		return err
	}
	want := 1
	if verb == "list" {
		want = 0
	}
	pos, err := f.parse(args, want)
	if err != nil {
		return err
	}
	o.key = append(pos, "")[0]
	return f.with(ctx, func(ctx context.Context, env *writeEnv) error {
		var files parked.Files
		if env.connect != nil {
			files = env.connect
		}
		svc, err := parked.New(env.ledger, env.conn, files, env.catalog)
		if err != nil {
			return err
		}
		out, err := o.act(ctx, svc, verb, env)
		if err != nil {
			return fmt.Errorf("parked %s: %w", verb, err)
		}
		return f.show(stdout, out)
	})
}

// parkedOptions are a parked subcommand's own flags and argument.
type parkedOptions struct {
	all             bool
	product, reason string
	note            string
	key             string
}

// newParkedFlags declares the flags of verb.
func newParkedFlags(verb string, getenv func(string) string, stdout io.Writer) (*writeFlags, *parkedOptions, error) {
	f, o := newWriteFlags("parked "+verb, getenv, stdout), &parkedOptions{}
	switch verb {
	case "list":
		f.set.BoolVar(&o.all, "all", false, "abandoned entries too")
		f.set.StringVar(&o.product, "product", "", "only entries of this product")
		f.set.StringVar(&o.reason, "reason", "", "only entries parked for this reason (rejected, records_missing, file_gone…)")
	case "show":
	case parked.ActionRetry, parked.ActionResubmit, parked.ActionAbandon:
		f.set.StringVar(&o.note, "note", "", "why (recorded with the action; required to abandon)")
	default:
		return nil, nil, fmt.Errorf("parked: unknown subcommand %q: list, show, retry, resubmit or abandon", verb)
	}
	return f, o, nil
}

// act runs verb on the service.
func (o *parkedOptions) act(ctx context.Context, svc *parked.Service, verb string, env *writeEnv) (textWriter, error) {
	switch verb {
	case "list":
		return svc.List(ctx, parked.ListFilter{All: o.all, Product: o.product, Reason: o.reason})
	case "show":
		return svc.Show(ctx, o.key)
	case parked.ActionRetry:
		return svc.Retry(ctx, o.key, env.actor, o.note)
	case parked.ActionResubmit:
		return svc.Resubmit(ctx, o.key, env.actor, o.note)
	}
	return svc.Abandon(ctx, o.key, env.actor, o.note)
}
