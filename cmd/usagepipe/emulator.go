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
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// runEmulator serves the Connect Usage API emulator under /public/v1 until ctx is cancelled. It prints
// "emulator ready <base URL>" once it accepts connections. See docs/emulator.md.
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("emulator", getenv)
	f.SetOutput(stdout)
	var apiKeys, providerKeys, faults listFlag
	apiKeys.secret, providerKeys.secret = true, true
	addr := f.String("addr", "127.0.0.1:8090", "listen address host:port (port 0 picks one)")
	catalog := f.String("catalog", "", "catalog file, YAML or JSON (default: the built-in sample catalog)")
	eventsCatalog := f.String("events-catalog", "", "also serve the products and contracts of this pipeline catalog (pkg/events format)")
	autoAssets := f.Bool("auto-assets", false, "accept records of unknown assets, creating them (generated subscriptions)")
	state := f.String("state", "", "state file: loaded at start, rewritten after every change (default: memory only)")
	f.Var(&apiKeys, "api-key", "accepted API key, repeatable; requests send Authorization: ApiKey <key> (default: any ApiKey header)")
	f.Var(&providerKeys, "provider-api-key", "API key with provider powers, repeatable (default: every key has them)")
	delay := f.Duration("processing-delay", 0, "how long an uploaded workbook stays in processing")
	acceptAfter := f.Duration("accept-after", 0, "the provider decides pending files after this delay")
	rejectShare := f.Float64("reject-share", 0, "share of pending files the provider rejects, 0..1")
	rejectNote := f.String("reject-note", "", "rejection_note of rejected files (default \"Auto Rejected\")")
	manual := f.Bool("manual", false, "leave pending files for manual accept/reject/close calls")
	f.Var(&faults, "fault", "fault injection route=spec, repeatable (e.g. files.create=commit-drop, files.upload=503*2, files.submit=commit-null~0.1)")
	verbose := f.Bool("verbose", false, "log every request")
	if err := f.Parse(args); err != nil {
		return err
	}
	opts, faultSet, err := emulatorOptions(*catalog, *eventsCatalog, *rejectShare, faults.values)
	if f.ValidateOnly() {
		return f.Validate(stdout, err)
	}
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	opts.APIKeys, opts.ProviderAPIKeys, opts.StatePath, opts.ProcessingDelay = apiKeys.values, providerKeys.values, *state, *delay
	opts.Provider = connectemu.ProviderPolicy{Auto: !*manual, AcceptAfter: *acceptAfter, RejectShare: *rejectShare, RejectNote: *rejectNote}
	opts.Logger, opts.AutoAssets = emulatorLogger(stdout, *verbose), *autoAssets
	return serveEmulator(ctx, *addr, opts, faultSet, stdout)
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

// serveEmulator opens the emulator, applies the faults and serves it until ctx ends.
func serveEmulator(ctx context.Context, addr string, opts connectemu.Options, faults map[string][]connectemu.Fault, stdout io.Writer) error {
	em, err := connectemu.Open(opts)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer func() { _ = em.Close() }()
	for route, list := range faults {
		if err := em.SetFaults(route, list...); err != nil {
			return fmt.Errorf("emulator: --fault: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	srv := &http.Server{Handler: withHealthz(em.Handler()), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "emulator ready http://%s/public/v1\n", ln.Addr())
	select {
	case err := <-done:
		return fmt.Errorf("emulator: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("emulator: shutdown: %w", err)
	}
	return nil
}

// withHealthz answers GET /healthz with 200 (the container health check) and passes everything else to api.
func withHealthz(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
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
