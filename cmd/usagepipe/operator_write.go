package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// writeFlags are the flags of the commands that resolve what is not billed (dlq, parked): NATS, the catalog
// the services run, optionally Connect, the operator's name, the output format and a timeout. Each is also
// read from USAGEPIPE_<NAME>.
type writeFlags struct {
	set        *config.FlagSet
	nats       *config.NATS
	catalog    string
	connectURL string
	apiKey     string
	operator   string
	json       bool
	timeout    time.Duration
	out        io.Writer
}

func newWriteFlags(name string, getenv func(string) string, out io.Writer) *writeFlags {
	f := &writeFlags{set: config.NewFlagSet(name, getenv), out: out}
	f.set.SetOutput(out)
	f.set.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML) the services run; required")
	f.set.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL (with --connect-api-key)")
	f.set.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); needed to resubmit a parked file")
	f.set.StringVar(&f.operator, "operator", defaultOperator(getenv), "who acts: recorded with every action")
	f.set.BoolVar(&f.json, "json", false, "print JSON instead of text")
	f.set.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	f.nats = config.AddNATS(f.set)
	return f
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

// parse reads args: the positional arguments first (want of them), then the flags.
func (f *writeFlags) parse(args []string, want int) ([]string, error) {
	var pos []string
	for len(args) > 0 && len(pos) < want && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := f.set.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	if len(pos) < want {
		return nil, fmt.Errorf("%s: %d argument(s) missing before the flags", f.set.Name(), want-len(pos))
	}
	return pos, nil
}

// env is what a write command works with: the bus, the ledger, the catalog and, when given, Connect.
type writeEnv struct {
	conn    *bus.Conn
	ledger  *ledger.Store
	catalog *events.Catalog
	connect *usageapi.Client // nil without --connect-api-key
	actor   ledger.Actor
}

// with checks the configuration, connects and calls fn; with -validate it prints the configuration (secrets
// redacted) and its verdict instead.
func (f *writeFlags) with(ctx context.Context, fn func(context.Context, *writeEnv) error) error {
	env := &writeEnv{actor: ledger.Actor{Name: f.operator, Via: "cli"}}
	errs := []error{f.nats.Check()}
	if f.catalog == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalog); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		env.catalog = c
	}
	if f.apiKey != "" {
		client, err := usageapi.New(f.connectURL, f.apiKey)
		errs, env.connect = append(errs, err), client
	}
	if strings.TrimSpace(f.operator) == "" {
		errs = append(errs, errors.New("--operator must name someone"))
	}
	err := errors.Join(errs...)
	if f.set.ValidateOnly() {
		return f.set.Validate(f.out, err)
	}
	if err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", f.set.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	conn, err := bus.Connect(ctx, f.nats.Bus("usagepipe-"+strings.ReplaceAll(f.set.Name(), " ", "-"), slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	defer conn.Close()
	if env.ledger, err = ledger.Open(ctx, conn); err != nil {
		return fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	env.conn = conn
	return fn(ctx, env)
}

// textWriter is an answer that prints itself for a person.
type textWriter interface{ WriteText(io.Writer) }

// show writes v as JSON (--json) or as text.
func (f *writeFlags) show(w io.Writer, v textWriter) error {
	if !f.json {
		v.WriteText(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

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
