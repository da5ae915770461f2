package devstack

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/internal/submitter"
	"github.com/usagepipe/usagepipe/internal/telemetry"
)

// Service names: the OTel service.name, the log's "service" and the NATS connection name of each worker.
const (
	ServiceIngest     = "ingest"
	ServiceAggregator = "aggregator"
	ServiceSubmitter  = "submitter"
	// ServiceDev is the "service" of what concerns the stack as a whole (OTel's own errors).
	ServiceDev = "dev"
)

// worker is what each binary sets up before its service, through internal/startup's stages: its own
// telemetry and its own bus connection (provisioned by ingest, as cmd/ingest does).
type worker struct {
	tel  *telemetry.Telemetry
	conn *bus.Conn
}

// newWorker starts the named worker's stages; they are closed at shutdown, after the services have stopped.
func (s *Stack) newWorker(ctx context.Context, name string, logw io.Writer, provision bool) (*worker, error) {
	st := startup.Stages{
		Telemetry: &telemetry.Options{Service: name, Getenv: workerEnv(s.opts.Getenv),
			SpanExporter: s.opts.SpanExporter, LogOutput: logw, LogLevel: s.opts.LogLevel},
		Bus: &bus.Config{URL: s.urls.NATS, Name: name},
	}
	if provision {
		top := s.topology()
		st.Provision = &top
	}
	started, err := startup.Start(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", name, err)
	}
	w := &worker{tel: started.Tel, conn: started.Conn}
	s.workers[name] = w
	s.onStop(started.Close)
	return w, nil
}

// workerEnv is getenv without OTEL_SERVICE_NAME: the workers share the process (and its environment), and
// each keeps its own service name.
func workerEnv(getenv func(string) string) func(string) string {
	return func(k string) string {
		if k == "OTEL_SERVICE_NAME" {
			return ""
		}
		return getenv(k)
	}
}

// topology is the streams' sizing: the stack's partitions on a single server.
func (s *Stack) topology() bus.Topology {
	return bus.Topology{Partitions: s.opts.Partitions, Replicas: 1}.WithDefaults()
}

// startIngest provisions the streams and serves the ingest service, as cmd/ingest does.
func (s *Stack) startIngest(ctx context.Context, logw io.Writer) error {
	w, err := s.newWorker(ctx, ServiceIngest, logw, true)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.opts.IngestAddr)
	if err != nil {
		return fmt.Errorf("devstack: ingest listen: %w", err)
	}
	cfg := ingest.Config{Partitions: s.opts.Partitions, APIKeys: s.opts.IngestAPIKeys, KeepRejected: s.opts.KeepRejected}
	if len(cfg.APIKeys) == 0 {
		if !isLoopback(ln.Addr()) {
			ln.Close()
			return fmt.Errorf("devstack: ingest listens on %s, which is not a loopback address: give it API keys "+
				"(--ingest-api-keys); without keys, dev serves ingest on loopback only", ln.Addr())
		}
		cfg.AllowAnonymous = true
	}
	svc, err := ingest.New(cfg, w.conn, s.opts.Catalogs.Pipeline, w.tel)
	if err != nil {
		ln.Close()
		return fmt.Errorf("devstack: %w", err)
	}
	s.urls.Ingest = "http://" + ln.Addr().String()
	s.group.run(ServiceIngest, func() error { return ingest.Serve(ctx, ln, svc.Handler(), shutdownTimeout) })
	s.group.run(ServiceIngest+" heartbeat", func() error {
		svc.RunHeartbeat(ctx, w.conn, ingest.DefaultMemberID(), ln.Addr().String())
		return nil
	})
	return nil
}

// isLoopback reports whether addr is a TCP address on a loopback interface (not the unspecified address).
func isLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// startAggregator runs one aggregator worker owning every partition, as cmd/aggregator does.
func (s *Stack) startAggregator(ctx context.Context, logw io.Writer) error {
	w, err := s.newWorker(ctx, ServiceAggregator, logw, false)
	if err != nil {
		return err
	}
	agg, err := aggregator.New(w.conn, aggregator.Options{
		Catalog: s.opts.Catalogs.Pipeline, Partitions: s.opts.Partitions,
		Logger: w.tel.Logger, TracerProvider: w.tel.TracerProvider(), MeterProvider: w.tel.MeterProvider(),
	})
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	s.group.run(ServiceAggregator, func() error { return agg.Run(ctx) })
	return nil
}

// Demo tuning of the submitter: the emulator answers in seconds, so follow files and retry more often than
// against the real Connect, and batch late adjustments for a shorter time.
const (
	devFollowMax       = 5 * time.Second
	devRetryMax        = 10 * time.Second
	devScanInterval    = 5 * time.Second
	devSupplementDelay = 10 * time.Second
)

// startSubmitter runs Options.Submitters submitters against the emulator, as cmd/submitter does: the first
// is the worker "submitter", the others "submitter-2", "submitter-3"…
func (s *Stack) startSubmitter(ctx context.Context, logw io.Writer) error {
	for i := 1; i <= s.opts.Submitters; i++ {
		name := ServiceSubmitter
		if i > 1 {
			name = fmt.Sprintf("%s-%d", ServiceSubmitter, i)
		}
		if err := s.startOneSubmitter(ctx, name, logw); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) startOneSubmitter(ctx context.Context, name string, logw io.Writer) error {
	w, err := s.newWorker(ctx, name, logw, false)
	if err != nil {
		return err
	}
	sub, err := submitter.New(w.conn, submitter.Options{
		Catalog: s.opts.Catalogs.Pipeline, ConnectURL: s.urls.Connect, ConnectAPIKey: s.opts.ConnectAPIKey,
		FollowMaxInterval: devFollowMax, RetryMaxInterval: devRetryMax, ScanInterval: devScanInterval,
		SupplementDelay: devSupplementDelay, PlanGrace: s.opts.PlanGrace, MemberID: "dev-" + name,
		Logger: w.tel.Logger, TracerProvider: w.tel.TracerProvider(), MeterProvider: w.tel.MeterProvider(),
	})
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	s.group.run(name, func() error { return sub.Run(ctx) })
	return s.exportStatus(ctx, name, w)
}
