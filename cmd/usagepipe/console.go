package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// consoleFlags are the console's command line: where it reads (readSource), where it listens, and who may
// use it (the operator API's keys and loopback rule). Each is also read from USAGEPIPE_<NAME>.
type consoleFlags struct {
	*readSource
	set      *config.FlagSet
	listener opsapi.ListenerFlags
	secure   bool
	refresh  time.Duration
}

func newConsoleFlags(getenv func(string) string, out io.Writer) *consoleFlags {
	f := &consoleFlags{set: config.NewFlagSet("console", getenv)}
	f.set.SetOutput(out)
	l := &f.listener
	l.AddrFlag = "addr"
	f.set.StringVar(&l.Addr, "addr", "127.0.0.1:8071", "listen address of the console (a non-loopback one needs operator keys)")
	f.set.Secret(&l.Keys, "operator-keys", "operator keys, comma-separated NAME=KEY entries (the name is who acts)")
	f.set.StringVar(&l.KeysFile, "operator-keys-file", "", "file of operator keys, one NAME=KEY a line")
	f.set.BoolVar(&l.AllowLoopback, "operator-allow-loopback", false, "on a loopback-only --addr, serve requests without a key (development)")
	f.set.BoolVar(&f.secure, "secure-cookies", false, "mark the session cookie Secure (the console is behind a TLS-terminating proxy)")
	f.set.DurationVar(&f.refresh, "refresh", console.DefaultRefresh, "how often pages refresh what changes (at least 1s)")
	f.readSource = addReadSource(f.set)
	return f
}

// runConsole serves the web console until ctx is cancelled, printing its URL once it listens.
func runConsole(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newConsoleFlags(getenv, stdout)
	if err := f.set.Parse(args); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	rc, err := f.readConfig()
	keys, kerr := f.listener.Check()
	problems := errors.Join(err, kerr, f.checkUsable(keys))
	if f.set.ValidateOnly() {
		return f.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("console: invalid configuration: %w", problems)
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	conn, err := bus.Connect(ctx, f.nats.Bus("usagepipe-console", log))
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer conn.Close()
	svc, err := console.NewServices(ctx, conn, rc)
	if err != nil {
		return err
	}
	o := console.Options{Keys: keys, AllowLoopback: f.listener.AllowLoopback, SecureCookies: f.secure, Refresh: f.refresh, Logger: log}
	addr, err := console.Start(ctx, f.listener.Addr, svc, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "console ready http://%s/ (%s)\n", addr, consoleAccess(keys, f.listener.AllowLoopback))
	<-ctx.Done()
	return nil
}

// checkUsable refuses a refresh below a second, and a console nobody could use (no key, no loopback).
func (f *consoleFlags) checkUsable(keys opsapi.Keys) error {
	var errs []error
	if f.refresh < time.Second {
		errs = append(errs, fmt.Errorf("--refresh %v: at least 1s", f.refresh))
	}
	if keys.Len() == 0 && !f.listener.AllowLoopback {
		errs = append(errs, errors.New("no operator key (--operator-keys, --operator-keys-file) and no --operator-allow-loopback: nobody could use the console"))
	}
	return errors.Join(errs...)
}

// consoleAccess says who may use the console.
func consoleAccess(keys opsapi.Keys, loopback bool) string {
	s := "no operator key"
	if keys.Len() > 0 {
		s = keys.String()
	}
	if loopback {
		s += "; no key needed from loopback"
	}
	return s
}
