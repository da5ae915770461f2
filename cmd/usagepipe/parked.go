package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
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
	o := &parkedOptions{}
	c := writeCommand{name: "parked " + verb, want: 1, work: func(ctx context.Context, env *writeEnv) error {
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
			return err
		}
		return env.show(out)
	}}
	switch verb {
	case "list":
		c.want, c.flags = 0, o.declareList
	case "show":
	case parked.ActionRetry, parked.ActionResubmit, parked.ActionAbandon:
		c.flags = o.declareAction
	default:
		return fmt.Errorf("parked: unknown subcommand %q: list, show, retry, resubmit or abandon", verb)
	}
	return runWrite(ctx, c, args, getenv, stdout)
}

// parkedOptions are a parked subcommand's own flags.
type parkedOptions struct {
	all             bool
	product, reason string
	note            string
}

func (o *parkedOptions) declareList(fs *config.FlagSet) {
	fs.BoolVar(&o.all, "all", false, "abandoned entries too")
	fs.StringVar(&o.product, "product", "", "only entries of this product")
	fs.StringVar(&o.reason, "reason", "", "only entries parked for this reason (rejected, records_missing, file_gone…)")
}

func (o *parkedOptions) declareAction(fs *config.FlagSet) {
	fs.StringVar(&o.note, "note", "", "why (recorded with the action; required to abandon)")
}

// act runs verb on the service, on the key given as the positional argument.
func (o *parkedOptions) act(ctx context.Context, svc *parked.Service, verb string, env *writeEnv) (texter, error) {
	if verb == "list" {
		return svc.List(ctx, parked.ListFilter{All: o.all, Product: o.product, Reason: o.reason})
	}
	key := env.pos[0]
	switch verb {
	case "show":
		return svc.Show(ctx, key)
	case parked.ActionRetry:
		return svc.Retry(ctx, key, env.actor, o.note)
	case parked.ActionResubmit:
		return svc.Resubmit(ctx, key, env.actor, o.note)
	}
	return svc.Abandon(ctx, key, env.actor, o.note)
}
