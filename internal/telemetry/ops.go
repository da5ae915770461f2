package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// opsProbeTimeout bounds one /healthz or /readyz check.
const opsProbeTimeout = 2 * time.Second

// OpsProbes are the checks behind a worker's /healthz (the process can do its work: e.g. its NATS connection is
// up) and /readyz (it is ready for traffic: e.g. also the streams it uses exist). A nil probe always passes.
type OpsProbes struct {
	Healthy func(ctx context.Context) error
	Ready   func(ctx context.Context) error
}

// OpsHandler serves GET /metrics, /healthz and /readyz: 200 with "ok" or "ready", 503 with the probe's error.
func (t *Telemetry) OpsHandler(p OpsProbes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", t.MetricsHandler())
	mux.HandleFunc("GET /healthz", ProbeHandler(p.Healthy, "ok"))
	mux.HandleFunc("GET /readyz", ProbeHandler(p.Ready, "ready"))
	return mux
}

// ProbeHandler answers 200 with okText when probe passes (or is nil), 503 with its error otherwise; the probe
// gets opsProbeTimeout.
func ProbeHandler(probe func(context.Context) error, okText string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if probe != nil {
			ctx, cancel := context.WithTimeout(r.Context(), opsProbeTimeout)
			defer cancel()
			if err := probe(ctx); err != nil {
				http.Error(w, "not "+okText+": "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, okText)
	}
}

// ServeOps listens on addr and serves OpsHandler in the background until stop is called; it returns the
// address it listens on (addr may have port 0), and stop waits up to a second for requests in flight.
func (t *Telemetry) ServeOps(addr string, p OpsProbes) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("telemetry: ops listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: t.OpsHandler(p), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Logger.Info("metrics and health listening", "addr", ln.Addr().String())
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close() // e.g. a scraper's fresh connection, which net/http waits 5 s for
		}
	}, nil
}
