package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/deadletter"
)

// runDLQ lists, shows and replays dead letters: usagepipe dlq list|show <id>|replay.
func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: usagepipe dlq list|show <id>|replay [flags] (usagepipe dlq <subcommand> -h lists its flags)"
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "list", "replay":
		return runDLQSelect(ctx, args[0], args[1:], getenv, stdout)
	case "show":
		return runDLQShow(ctx, args[1:], getenv, stdout)
	}
	return fmt.Errorf("dlq: unknown subcommand %q: list, show or replay", args[0])
}

// dlqFilterFlags are the filters of list and replay.
type dlqFilterFlags struct {
	stage, reason, product, subject, period, since, until, ids string
	open                                                       bool

	parsed deadletter.Filter // read by check
}

func (d *dlqFilterFlags) declare(fs *config.FlagSet) {
	fs.StringVar(&d.stage, "stage", "", "only dead letters of this stage: ingest, aggregator or submitter")
	fs.StringVar(&d.reason, "reason", "", "only dead letters of this reason (unknown_product, connect_invalid…)")
	fs.StringVar(&d.product, "product", "", "only dead letters of this product")
	fs.StringVar(&d.subject, "subject", "", "only dead letters of this subscription (the event's subject)")
	fs.StringVar(&d.period, "period", "", "only dead letters whose period holds this instant (RFC 3339, 2006-01-02, or a period key)")
	fs.StringVar(&d.since, "since", "", "only dead letters written since then (a time, or a duration before now: 24h)")
	fs.StringVar(&d.until, "until", "", "only dead letters written before then (a time, or a duration before now)")
	fs.StringVar(&d.ids, "id", "", "only these dead letters (comma-separated ids: dlq-<seq>, agg-<seq>-<line>)")
	fs.BoolVar(&d.open, "open", false, "only open dead letters (never replayed, refused, interrupted); replay takes open ones anyway")
}

// check reads the filters into d.parsed, relative to now.
func (d *dlqFilterFlags) check(now time.Time) error {
	f := deadletter.Filter{Stage: d.stage, Reason: d.reason, Product: d.product, Subscription: d.subject, Open: d.open}
	if d.ids != "" {
		f.IDs = strings.Split(d.ids, ",")
		for _, id := range f.IDs {
			if _, _, _, err := deadletter.ParseID(id); err != nil {
				return err
			}
		}
	}
	var errs [3]error
	f.Period, errs[0] = parseWhen(d.period, now)
	f.Since, errs[1] = parseWhen(d.since, now)
	f.Until, errs[2] = parseWhen(d.until, now)
	d.parsed = f
	return errors.Join(errs[:]...)
}

// runDLQSelect runs list or replay over the dead letters the filters select.
func runDLQSelect(ctx context.Context, verb string, args []string, getenv func(string) string, stdout io.Writer) error {
	var d dlqFilterFlags
	var execute bool
	dryRun := true
	c := writeCommand{name: "dlq " + verb,
		flags: func(fs *config.FlagSet) {
			d.declare(fs)
			if verb == "replay" {
				fs.BoolVar(&execute, "execute", false, "replay for real (without it, a dry run says what each replay would do)")
				fs.BoolVar(&dryRun, "dry-run", true, "only say what each replay would do (the default; --dry-run=false is --execute)")
			}
		},
		check: func() error { return d.check(time.Now()) },
		work: func(ctx context.Context, env *writeEnv) error {
			svc, err := deadletter.New(env.conn, env.ledger, env.catalog)
			if err != nil {
				return err
			}
			if verb == "list" {
				listing, err := svc.List(ctx, d.parsed)
				if err != nil {
					return err
				}
				return env.show(listing)
			}
			rep, err := svc.Replay(ctx, d.parsed, deadletter.ReplayOptions{Execute: execute || !dryRun, Actor: env.actor})
			if serr := env.show(rep); err == nil {
				err = serr
			}
			return err
		}}
	return runWrite(ctx, c, args, getenv, stdout)
}

// runDLQShow prints one dead letter.
func runDLQShow(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWrite(ctx, writeCommand{name: "dlq show", want: 1, work: func(ctx context.Context, env *writeEnv) error {
		svc, err := deadletter.New(env.conn, env.ledger, env.catalog)
		if err != nil {
			return err
		}
		l, err := svc.Show(ctx, env.pos[0])
		if err != nil {
			return err
		}
		return env.show(l)
	}}, args, getenv, stdout)
}
