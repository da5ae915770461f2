package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// emulatorFlags are the emulator command line (each also read from USAGEPIPE_<NAME>).
type emulatorFlags struct {
	addr, catalog, eventsCatalog, state, rejectNote string
	apiKeys, providerKeys, faults                   listFlag
	autoAssets, manual, verbose                     bool
	delay, acceptAfter                              time.Duration
	rejectShare                                     float64

	opts     connectemu.Options            // built by check
	faultSet map[string][]connectemu.Fault // built by check
}

func (f *emulatorFlags) declare(fs *config.FlagSet) {
	f.apiKeys.secret, f.providerKeys.secret = true, true
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8090", "listen address host:port (port 0 picks one)")
	fs.StringVar(&f.catalog, "catalog", "", "catalog file, YAML or JSON (default: the built-in sample catalog)")
	fs.StringVar(&f.eventsCatalog, "events-catalog", "", "also serve the products and contracts of this pipeline catalog (pkg/events format)")
	fs.BoolVar(&f.autoAssets, "auto-assets", false, "accept records of unknown assets, creating them (generated subscriptions)")
	fs.StringVar(&f.state, "state", "", "state file: loaded at start, rewritten after every change (default: memory only)")
	fs.Var(&f.apiKeys, "api-key", "accepted API key, repeatable; requests send Authorization: ApiKey <key> (default: any ApiKey header, on a loopback --addr only)")
	fs.Var(&f.providerKeys, "provider-api-key", "API key with provider powers, repeatable (default: every key has them)")
	fs.DurationVar(&f.delay, "processing-delay", 0, "how long an uploaded workbook stays in processing")
	fs.DurationVar(&f.acceptAfter, "accept-after", 0, "the provider decides pending files after this delay")
	fs.Float64Var(&f.rejectShare, "reject-share", 0, "share of pending files the provider rejects, 0..1")
	fs.StringVar(&f.rejectNote, "reject-note", "", "rejection_note of rejected files (default \"Auto Rejected\")")
	fs.BoolVar(&f.manual, "manual", false, "leave pending files for manual accept/reject/close calls")
	fs.Var(&f.faults, "fault", "fault injection route=spec, repeatable (e.g. files.create=commit-drop, files.upload=503*2, files.submit=commit-null~0.1)")
	fs.BoolVar(&f.verbose, "verbose", false, "log every request")
}

// check loads the catalogs and parses the faults, reporting every problem at once.
func (f *emulatorFlags) check() error {
	var err error
	f.opts, f.faultSet, err = emulatorOptions(f.catalog, f.eventsCatalog, f.rejectShare, f.faults.values)
	return err
}

// runEmulator serves the Connect Usage API emulator under /public/v1 until ctx is cancelled. It prints
// "emulator ready <base URL>" once it accepts connections. See docs/emulator.md.
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &emulatorFlags{}
	serve := func(ctx context.Context, env startup.Env) error {
		opts := f.opts
		opts.APIKeys, opts.ProviderAPIKeys, opts.StatePath, opts.ProcessingDelay = f.apiKeys.values, f.providerKeys.values, f.state, f.delay
		opts.Provider = connectemu.ProviderPolicy{Auto: !f.manual, AcceptAfter: f.acceptAfter, RejectShare: f.rejectShare, RejectNote: f.rejectNote}
		opts.Logger, opts.AutoAssets = emulatorLogger(env.Stdout, f.verbose), f.autoAssets
		return serveEmulator(ctx, f.addr, opts, f.faultSet, env.Stdout)
	}
	return startup.Run(ctx, startup.Command{Name: "emulator", Flags: f.declare, Check: f.check, Serve: serve}, args, getenv, stdout)
}

// emulatorOptions loads the catalogs and parses the faults, reporting every problem at once.
func emulatorOptions(catalog, eventsCatalog string, rejectShare float64, faults []string) (connectemu.Options, map[string][]connectemu.Fault, error) {
	var opts connectemu.Options
	cat, errs := emulatorCatalog(catalog, eventsCatalog)
	opts.Catalog = cat
	if rejectShare < 0 || rejectShare > 1 {
		errs = append(errs, fmt.Errorf("--reject-share %v is not in [0,1]", rejectShare))
	}
	set := map[string][]connectemu.Fault{}
	for _, spec := range faults {
		route, list, ok := strings.Cut(spec, "=")
		if !ok || route != "*" && !slices.Contains(connectemu.Routes(), route) {
			errs = append(errs, fmt.Errorf("--fault %q: want route=spec with a route of %v or *", spec, connectemu.Routes()))
			continue
		}
		parsed, err := connectemu.ParseFaults(list)
		errs = append(errs, err)
		set[route] = append(set[route], parsed...)
	}
	return opts, set, errors.Join(errs...)
}

// emulatorCatalog is the --catalog file (or, with only --events-catalog, the sample catalog) with the
// products of the --events-catalog merged in; nil means the sample catalog.
func emulatorCatalog(catalog, eventsCatalog string) (*connectemu.Catalog, []error) {
	var c *connectemu.Catalog
	var errs []error
	if catalog != "" {
		var err error
		c, err = connectemu.LoadCatalog(catalog)
		errs = append(errs, err)
	}
	if eventsCatalog == "" {
		return c, errs
	}
	pipeline, err := events.LoadCatalog(eventsCatalog)
	if err != nil {
		return c, append(errs, err)
	}
	if c == nil {
		c = connectemu.SampleCatalog()
	}
	return c.Merged(devstack.ConnectCatalog(pipeline)), errs
}

// checkEmulatorExposure refuses a listener beyond loopback while the emulator takes any ApiKey (no --api-key).
func checkEmulatorExposure(addr net.Addr, keys []string) error {
	if a, ok := addr.(*net.TCPAddr); len(keys) > 0 || ok && a.IP.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr: listening on %s, not a loopback address, while without --api-key the emulator takes any key: give --api-key", addr)
}

// serveEmulator opens the emulator, applies the faults and serves it until ctx ends.
func serveEmulator(ctx context.Context, addr string, opts connectemu.Options, faults map[string][]connectemu.Fault, stdout io.Writer) error {
	em, err := connectemu.Open(opts)
	if err != nil {
		return err
	}
	defer func() { _ = em.Close() }()
	for route, list := range faults {
		if err := em.SetFaults(route, list...); err != nil {
			return fmt.Errorf("--fault: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := checkEmulatorExposure(ln.Addr(), opts.APIKeys); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: withHealthz(em.Handler()), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "emulator ready http://%s/public/v1\n", ln.Addr())
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// withHealthz answers GET /healthz and GET /readyz with 200 (the container health check; the emulator's state
// is loaded before it serves, so it is ready as soon as it answers) and passes everything else to api.
func withHealthz(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("/", api)
	return mux
}

func emulatorLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// listFlag is a repeatable flag; one value may also hold several entries separated by spaces (the form an
// environment variable takes). A secret list prints as [REDACTED].
type listFlag struct {
	values []string
	secret bool
}

func (l *listFlag) String() string {
	if l == nil || len(l.values) == 0 {
		return ""
	}
	if l.secret {
		return "[REDACTED]"
	}
	return strings.Join(l.values, " ")
}

func (l *listFlag) Set(v string) error {
	l.values = append(l.values, strings.Fields(v)...)
	return nil
}
