package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// readCommand is a read command (explain, usage, status) as internal/startup runs it: the flags every read
// command shares (operatorFlags), its own, and its work with the read configuration.
type readCommand struct {
	name  string
	flags func(fs *config.FlagSet)                      // its own flags (nil: none)
	check func() error                                  // checks its own flags (nil: nothing to check)
	work  func(ctx context.Context, env *readEnv) error // runs once connected
}

// readEnv is what a read command works with: what internal/startup started, the read configuration (the
// catalog, P and the Connect client, each when given) and how to print.
type readEnv struct {
	startup.Env
	cfg  opsapi.ReadConfig
	json bool
}

// show prints v to the command's output as JSON (--json) or as text.
func (env *readEnv) show(v texter) error { return printAnswer(env.Stdout, env.json, v) }

// readSource is where the read side reads besides NATS (internal/startup's), declared alike by the read
// commands and the console: optionally the catalog and Connect. Each flag is also read from USAGEPIPE_<NAME>.
type readSource struct {
	set         *config.FlagSet
	catalogPath string
	connectURL  string
	apiKey      string

	cfg opsapi.ReadConfig // the catalog and the Connect client, loaded by check
}

func (f *readSource) declare(fs *config.FlagSet) {
	f.set = fs
	fs.StringVar(&f.catalogPath, "catalog", "", "product catalog (YAML); default: the one the aggregators committed last")
	fs.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL (with --connect-api-key)")
	fs.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); without it answers stop at the ledger")
}

// check loads the catalog and builds the Connect client, if given.
func (f *readSource) check() error {
	var errs []error
	if f.catalogPath != "" {
		cat, err := events.LoadCatalog(f.catalogPath)
		errs = append(errs, err)
		f.cfg.Catalog = cat
	}
	if f.apiKey != "" {
		client, err := usageapi.New(f.connectURL, f.apiKey)
		errs = append(errs, err)
		f.cfg.Connect = client
	}
	return errors.Join(errs...)
}

// readConfig is the read configuration: P is the committed one unless the flag (or its variable) sets it.
func (f *readSource) readConfig(nats *config.NATS) opsapi.ReadConfig {
	c := f.cfg
	if f.set.Source("partitions") != config.SourceDefault {
		c.Partitions = nats.Partitions
	}
	return c
}

// operatorFlags are the flags the read commands share besides NATS: where they read (readSource), the output
// format and a timeout. Each is also read from USAGEPIPE_<NAME>.
type operatorFlags struct {
	readSource
	json    bool
	timeout time.Duration
}

func (f *operatorFlags) declare(fs *config.FlagSet) {
	f.readSource.declare(fs)
	fs.BoolVar(&f.json, "json", false, "print JSON instead of text")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
}

// runRead runs c: internal/startup parses the flags (-h, -validate), checks them, connects to NATS within
// --timeout, and c's work runs with the read configuration.
func runRead(ctx context.Context, c readCommand, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &operatorFlags{}
	return startup.Run(ctx, startup.Command{
		Name: c.name, Uses: startup.Uses{NATS: true},
		Flags: func(fs *config.FlagSet) {
			f.declare(fs)
			if c.flags != nil {
				c.flags(fs)
			}
		},
		Check: func() error {
			if c.check == nil {
				return f.check()
			}
			return errors.Join(f.check(), c.check())
		},
		ConnName: func() string { return "usagepipe-" + c.name },
		Timeout:  func() time.Duration { return f.timeout },
		Serve: func(ctx context.Context, env startup.Env) error {
			return c.work(ctx, &readEnv{Env: env, cfg: f.readConfig(env.NATS), json: f.json})
		},
	}, args, getenv, stdout)
}

// withServices is work that calls fn with the read services.
func withServices(fn func(context.Context, *readEnv, opsapi.Services) error) func(context.Context, *readEnv) error {
	return func(ctx context.Context, env *readEnv) error {
		svc, err := opsapi.NewReadServices(ctx, env.Conn, env.cfg)
		if err != nil {
			return err
		}
		return fn(ctx, env, svc)
	}
}

// texter is an answer that prints itself for a person.
type texter interface{ WriteText(io.Writer) }

// printAnswer writes v to w as JSON (asJSON) or as text.
func printAnswer(w io.Writer, asJSON bool, v texter) error {
	if !asJSON {
		v.WriteText(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
