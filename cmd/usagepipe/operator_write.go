package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// writeCommand is a command that resolves what is not billed (dlq, parked), as internal/startup runs it:
// the flags every such command shares (writeFlags), its own, want positional arguments before the flags,
// and its work with what it needs (writeEnv).
type writeCommand struct {
	name  string                                         // "dlq list", "parked retry"…: its flag set and error prefix
	want  int                                            // positional arguments before the flags
	flags func(fs *config.FlagSet)                       // its own flags (nil: none)
	check func() error                                   // checks its own flags (nil: nothing to check)
	work  func(ctx context.Context, env *writeEnv) error // runs once connected, the ledger open
}

// writeFlags are the flags the write commands share besides NATS (internal/startup's): the catalog the
// services run, optionally Connect, the operator's name, the output format and a timeout. Each is also read
// from USAGEPIPE_<NAME>.
type writeFlags struct {
	catalogPath string
	connectURL  string
	apiKey      string
	operator    string
	json        bool
	timeout     time.Duration

	pos     []string         // the positional arguments
	catalog *events.Catalog  // loaded by check
	connect *usageapi.Client // built by check; nil without --connect-api-key
}

func (f *writeFlags) declare(fs *config.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.catalogPath, "catalog", "", "path of the product catalog (YAML) the services run; required")
	fs.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL (with --connect-api-key)")
	fs.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); needed to resubmit a parked file")
	fs.StringVar(&f.operator, "operator", defaultOperator(getenv), "who acts: recorded with every action")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
}

// defaultOperator is $USER@hostname.
func defaultOperator(getenv func(string) string) string {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return user + "@" + host
}

// positional splits args into the positional arguments before the flags (want of them at most) and the rest.
func positional(args []string, want int) (pos, rest []string) {
	for len(args) > 0 && len(pos) < want && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, args
}

// check loads the catalog, builds the Connect client and reports every problem of the shared flags and the
// positional arguments at once.
func (f *writeFlags) check(want int) error {
	var errs []error
	if len(f.pos) < want {
		errs = append(errs, fmt.Errorf("%d argument(s) missing before the flags", want-len(f.pos)))
	}
	if f.catalogPath == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalogPath); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		f.catalog = c
	}
	if f.apiKey != "" {
		client, err := usageapi.New(f.connectURL, f.apiKey)
		errs, f.connect = append(errs, err), client
	}
	if strings.TrimSpace(f.operator) == "" {
		errs = append(errs, errors.New("--operator must name someone"))
	}
	return errors.Join(errs...)
}

// runWrite runs c: internal/startup parses the flags (-h, -validate), checks them, connects to NATS within
// --timeout, and c's work runs with the ledger open.
func runWrite(ctx context.Context, c writeCommand, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &writeFlags{}
	f.pos, args = positional(args, c.want)
	return startup.Run(ctx, startup.Command{
		Name: c.name, Uses: startup.Uses{NATS: true},
		Flags: func(fs *config.FlagSet) {
			f.declare(fs, getenv)
			if c.flags != nil {
				c.flags(fs)
			}
		},
		Check: func() error {
			if c.check == nil {
				return f.check(c.want)
			}
			return errors.Join(f.check(c.want), c.check())
		},
		ConnName: func() string { return "usagepipe-" + strings.ReplaceAll(c.name, " ", "-") },
		Timeout:  func() time.Duration { return f.timeout },
		Serve: func(ctx context.Context, env startup.Env) error {
			l, err := ledger.Open(ctx, env.Conn)
			if err != nil {
				return err
			}
			return c.work(ctx, &writeEnv{conn: env.Conn, ledger: l, catalog: f.catalog, connect: f.connect,
				actor: ledger.Actor{Name: f.operator, Via: "cli"}, pos: f.pos, json: f.json, out: env.Stdout})
		},
	}, args, getenv, stdout)
}

// writeEnv is what a write command works with: the bus, the ledger, the catalog and, when given, Connect;
// the operator acting, the positional arguments and where and how to print.
type writeEnv struct {
	conn    *bus.Conn
	ledger  *ledger.Store
	catalog *events.Catalog
	connect *usageapi.Client // nil without --connect-api-key
	actor   ledger.Actor
	pos     []string
	json    bool
	out     io.Writer
}

// show prints v to the command's output as JSON (--json) or as text.
func (env *writeEnv) show(v texter) error { return printAnswer(env.out, env.json, v) }

// parseWhen reads an instant: RFC 3339, a date (2026-11-25, UTC), a period key (20261125T000000Z), or a
// duration before now (24h).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02", "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, 2006-01-02, 20060102T150405Z) nor a duration before now", s)
}
