package devstack

import (
	"context"
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

// startMetrics serves every worker's Prometheus registry at /metrics/<service>: each worker has its own
// registry, as it would in its own process.
func (s *Stack) startMetrics(context.Context, io.Writer) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	for name, w := range s.workers {
		mux.Handle("GET /metrics/"+name, w.tel.MetricsHandler())
	}
	srv, err := serveHTTP(s.opts.MetricsAddr, mux)
	if err != nil {
		return err
	}
	s.urls.Metrics = srv.URL()
	s.onStop(srv.stop)
	return nil
}
