package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/startup"
)

// consoleFlags are the console's own command line besides NATS and the log level (internal/startup's): where
// it reads (readSource), where it listens and who may use it (the operator API's keys and loopback rule), its
// cookies and its refresh. Each is also read from USAGEPIPE_<NAME>.
type consoleFlags struct {
	readSource
	listener opsapi.ListenerFlags
	secure   bool
	refresh  time.Duration

	keys opsapi.Keys // loaded by check
}

func (f *consoleFlags) declare(fs *config.FlagSet) {
	f.readSource.declare(fs)
	l := &f.listener
	l.AddrFlag = "addr"
	fs.StringVar(&l.Addr, "addr", "127.0.0.1:8071", "listen address of the console (a non-loopback one needs operator keys)")
	fs.Secret(&l.Keys, "operator-keys", "operator keys, comma-separated NAME=KEY entries (the name is who acts)")
	fs.StringVar(&l.KeysFile, "operator-keys-file", "", "file of operator keys, one NAME=KEY a line")
	fs.BoolVar(&l.AllowLoopback, "operator-allow-loopback", false, "on a loopback-only --addr, serve requests without a key (development)")
	fs.BoolVar(&f.secure, "secure-cookies", false, "mark the session cookie Secure (the console is behind a TLS-terminating proxy)")
	fs.DurationVar(&f.refresh, "refresh", console.DefaultRefresh, "how often pages refresh what changes (at least 1s)")
}

// check loads the catalog, Connect and the keys, and refuses a refresh below a second, a console open to the
// network without keys, and one nobody could use (no key, no loopback) — every problem at once.
func (f *consoleFlags) check() error {
	keys, err := f.listener.Check()
	f.keys = keys
	errs := []error{f.readSource.check(), err}
	if f.refresh < time.Second {
		errs = append(errs, fmt.Errorf("--refresh %v: at least 1s", f.refresh))
	}
	if err == nil && keys.Len() == 0 && !f.listener.AllowLoopback {
		errs = append(errs, errors.New("no operator key (--operator-keys, --operator-keys-file) and no --operator-allow-loopback: nobody could use the console"))
	}
	return errors.Join(errs...)
}

// runConsole serves the web console until ctx is cancelled, printing its URL once it listens. internal/startup
// parses the flags (-h, -validate), checks them, sets up the logger and connects to NATS.
func runConsole(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &consoleFlags{}
	return startup.Run(ctx, startup.Command{Name: "console", Uses: startup.Uses{Telemetry: true, NATS: true},
		Flags: f.declare, Check: f.check, ConnName: func() string { return "usagepipe-console" }, Serve: f.serve},
		args, getenv, stdout)
}

// serve builds the console's services over the connection and serves it until ctx ends (and the requests in
// progress are done: the connection is closed after).
func (f *consoleFlags) serve(ctx context.Context, env startup.Env) error {
	svc, err := console.NewServices(ctx, env.Conn, f.readConfig(env.NATS))
	if err != nil {
		return err
	}
	o := console.Options{Keys: f.keys, AllowLoopback: f.listener.AllowLoopback, SecureCookies: f.secure, Refresh: f.refresh,
		Logger: env.Tel.Logger}
	return console.Serve(ctx, f.listener.Addr, svc, o, func(addr string) {
		fmt.Fprintf(env.Stdout, "console ready http://%s/ (%s)\n", addr, consoleAccess(f.keys, f.listener.AllowLoopback))
	})
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
