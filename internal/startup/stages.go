package startup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/telemetry"
)

// Stages are the shared stages a service goes through before its own work, in this order; each is optional.
type Stages struct {
	// Telemetry sets up the service's logger, tracer and meter providers (nil: none; the bus then logs nowhere
	// and there is no ops server).
	Telemetry *telemetry.Options
	// Bus connects to NATS (nil: no connection). A nil Log takes the telemetry's logger.
	Bus *bus.Config
	// Provision creates or updates the streams and buckets (nil: they are left as they are).
	Provision *bus.Topology
	// OpsAddr is where /metrics, /healthz and /readyz listen, the probes asking the connection if there is one
	// ("": no ops server; it needs Telemetry).
	OpsAddr string
}

// Started is what [Start] started, for the service's own work; Close stops it in the reverse order.
type Started struct {
	Tel     *telemetry.Telemetry // nil without Stages.Telemetry
	Conn    *bus.Conn            // nil without Stages.Bus
	OpsAddr string               // the address the ops server listens on ("" without one)
	closers []func() error
}

// Start runs the stages of st in order. On an error it closes what it started and returns the error.
func Start(ctx context.Context, st Stages) (*Started, error) {
	s := &Started{}
	for _, stage := range []func(context.Context, Stages) error{s.telemetry, s.connect, s.provision, s.serveOps} {
		if err := stage(ctx, st); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	return s, nil
}

func (s *Started) telemetry(ctx context.Context, st Stages) error {
	if st.Telemetry == nil {
		return nil
	}
	tel, err := telemetry.Setup(ctx, *st.Telemetry)
	if err != nil {
		return err
	}
	s.Tel = tel
	s.onClose(tel.Shutdown)
	return nil
}

func (s *Started) connect(ctx context.Context, st Stages) error {
	if st.Bus == nil {
		return nil
	}
	cfg := *st.Bus
	if cfg.Log == nil && s.Tel != nil {
		cfg.Log = s.Tel.Logger
	} else if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	conn, err := bus.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	s.Conn = conn
	s.onClose(func() error { conn.Close(); return nil })
	return nil
}

func (s *Started) provision(ctx context.Context, st Stages) error {
	if st.Provision == nil || s.Conn == nil {
		return nil
	}
	return s.Conn.Provision(ctx, *st.Provision)
}

func (s *Started) serveOps(_ context.Context, st Stages) error {
	if st.OpsAddr == "" {
		return nil
	}
	if s.Tel == nil {
		return fmt.Errorf("ops server on %s: needs telemetry", st.OpsAddr)
	}
	var probes telemetry.OpsProbes
	if s.Conn != nil {
		probes = telemetry.OpsProbes{Healthy: s.Conn.Healthy, Ready: s.Conn.Ready}
	}
	addr, stop, err := s.Tel.ServeOps(st.OpsAddr, probes)
	if err != nil {
		return err
	}
	s.OpsAddr = addr
	s.onClose(func() error { stop(); return nil })
	return nil
}

func (s *Started) onClose(fn func() error) { s.closers = append(s.closers, fn) }

// Close stops what Start started, in the reverse order: the ops server, the connection (flushing pending
// publishes), then telemetry (flushing spans). It may be called once.
func (s *Started) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}
