package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// connectPrefix is where the emulator mounts the API, like the real base URL.
const connectPrefix = "/public/v1"

// startEmulator opens the emulator on its persisted state (a second start resumes its files) and serves it
// with /healthz. The provider accepts every submitted file after AcceptAfter.
func (s *Stack) startEmulator(_ context.Context, logw io.Writer) error {
	emu, err := connectemu.Open(connectemu.Options{
		Catalog:         s.opts.Catalogs.Connect,
		APIKeys:         []string{s.opts.ConnectAPIKey},
		ProcessingDelay: s.opts.ProcessingTime,
		Provider:        connectemu.ProviderPolicy{Auto: true, AcceptAfter: s.opts.AcceptAfter},
		StatePath:       s.data.emulatorState(),
		PathPrefix:      connectPrefix,
		Logger:          telemetry.NewLogger(logw, "emulator", s.opts.LogLevel),
	})
	if err != nil {
		return fmt.Errorf("devstack: emulator: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", healthz) // ready once it serves: its state is loaded before
	mux.Handle("/", emu.Handler())
	srv, err := serveHTTP(s.opts.EmulatorAddr, mux)
	if err != nil {
		return err
	}
	s.emulator = emu
	s.urls.Emulator, s.urls.Connect = srv.URL(), srv.URL()+connectPrefix
	s.onStop(func() error { err := srv.stop(); _ = emu.Close(); return err })
	return nil
}

// startMetrics serves what each worker's binary serves on its own ops port, under one: /metrics/<service>
// (each worker has its own registry, as it would in its own process), /healthz/<service> and /readyz/<service>
// (its NATS connection's probes, as the binary's); /healthz and /readyz answer for every worker at once.
func (s *Stack) startMetrics(context.Context, io.Writer) error {
	mux := http.NewServeMux()
	var healthy, ready []func(context.Context) error
	for name, w := range s.workers {
		mux.Handle("GET /metrics/"+name, w.tel.MetricsHandler())
		mux.Handle("GET /healthz/"+name, telemetry.ProbeHandler(w.conn.Healthy, "ok"))
		mux.Handle("GET /readyz/"+name, telemetry.ProbeHandler(w.conn.Ready, "ready"))
		healthy, ready = append(healthy, w.conn.Healthy), append(ready, w.conn.Ready)
	}
	mux.Handle("GET /healthz", telemetry.ProbeHandler(allOf(healthy), "ok"))
	mux.Handle("GET /readyz", telemetry.ProbeHandler(allOf(ready), "ready"))
	srv, err := serveHTTP(s.opts.MetricsAddr, mux)
	if err != nil {
		return err
	}
	s.urls.Metrics = srv.URL()
	s.onStop(srv.stop)
	return nil
}

// allOf is a probe that passes when every one of probes passes.
func allOf(probes []func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		for _, p := range probes {
			errs = append(errs, p(ctx))
		}
		return errors.Join(errs...)
	}
}
