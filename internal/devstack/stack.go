package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// URLs says where a running stack's endpoints are.
type URLs struct {
	Ingest   string // http://host:port; POST /v1/events
	Emulator string // http://host:port of the Connect emulator
	Connect  string // the emulated Connect API base, Emulator + /public/v1
	Metrics  string // http://host:port; GET /{metrics,healthz,readyz}/{ingest,aggregator,submitter}, /healthz, /readyz
	NATS     string // nats://host:port
	Operator string // http://host:port of the operator API (/api/v1/…)
	Console  string // http://host:port/ of the web console
}

// Stack is a running dev stack. Start it; it runs until the context given to Start ends, then Wait returns.
type Stack struct {
	opts    Options
	data    dataDir
	resumed bool
	urls    URLs
	logPath string // "" when logs go to Options.LogOutput

	nats     *natsembed.Server
	emulator *connectemu.Emulator
	workers  map[string]*worker
	observer *observer
	sim      *simulator // nil without Options.Simulate

	cancel   context.CancelFunc
	stopping <-chan struct{} // closed when the stack begins to shut down
	group    group
	closers  []func() error // run in reverse order once the group has stopped
	done     chan struct{}
	err      error
}

// Start locks and prepares the data directory (a directory another stack holds is refused, naming its pid) and starts, in order, the embedded JetStream, the Connect emulator, and
// the ingest, aggregator and submitter services (their own constructors and run loops), then the observer
// behind Summary and, with Options.Simulate, the simulator. It returns once every endpoint listens; the
// stack runs until ctx ends (or a service fails) and then shuts down in reverse order.
func Start(ctx context.Context, o Options) (*Stack, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	s := &Stack{opts: o, data: dataDir(o.DataDir), workers: map[string]*worker{}, done: make(chan struct{})}
	lock, resumed, err := prepareDataDir(s.data, o.Fresh, o.Partitions)
	if err != nil {
		return nil, err
	}
	s.resumed = resumed
	s.onStop(lock.Release) // the first cleanup registered, so the last run: the directory stays locked until then
	ctx, s.cancel = context.WithCancel(ctx)
	s.group.cancel, s.stopping = s.cancel, ctx.Done()
	s.group.stopping = s.stopping
	if err := s.start(ctx); err != nil {
		s.cancel()
		return nil, errors.Join(err, s.shutdown())
	}
	go func() {
		<-ctx.Done()
		s.err = s.shutdown()
		close(s.done)
	}()
	return s, nil
}

// resolve applies the defaults and checks that the catalogs agree.
func (o Options) resolve() (Options, error) {
	o = o.withDefaults()
	if o.Catalogs.Pipeline == nil || o.Catalogs.Connect == nil {
		c, err := SampleCatalogs()
		if err != nil {
			return o, err
		}
		o.Catalogs = c
	}
	if err := o.Catalogs.Check(); err != nil {
		return o, fmt.Errorf("devstack: catalogs disagree: %w", err)
	}
	return o, o.checkExposure()
}

func (s *Stack) start(ctx context.Context) error {
	logw, err := s.openLog()
	if err != nil {
		return err
	}
	// The OTel error handler is global: set once for the whole stack, so no worker's name (the last one set
	// up) is put on every worker's errors.
	telemetry.SetErrorLogger(telemetry.NewLogger(logw, ServiceDev, s.opts.LogLevel))
	steps := []func(context.Context, io.Writer) error{
		s.startNATS, s.startEmulator, s.startIngest, s.startAggregator, s.startSubmitter, s.startOperator, s.startConsole, s.startMetrics,
		s.startObserver, s.startSimulator,
	}
	for _, step := range steps {
		if err := step(ctx, logw); err != nil {
			return err
		}
	}
	return nil
}

// openLog opens the JSON log every service writes to: Options.LogOutput, or DataDir/usagepipe.log.
func (s *Stack) openLog() (io.Writer, error) {
	if s.opts.LogOutput != nil {
		return s.opts.LogOutput, nil
	}
	s.logPath = s.data.logFile()
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devstack: log: %w", err)
	}
	s.onStop(f.Close)
	return f, nil
}

// startNATS starts the embedded JetStream server on the data directory's store.
func (s *Stack) startNATS(context.Context, io.Writer) error {
	host, port, err := splitHostPort(s.opts.NATSAddr)
	if err != nil {
		return fmt.Errorf("devstack: nats address: %w", err)
	}
	srv, err := natsembed.Start(natsembed.Options{StoreDir: s.data.natsStore(), Host: host, Port: port, Name: "usagepipe-dev"})
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	s.nats, s.urls.NATS = srv, srv.URL()
	s.onStop(func() error { srv.Shutdown(); return nil })
	return nil
}

// onStop registers a cleanup run at shutdown, after the services have stopped, in reverse order.
func (s *Stack) onStop(fn func() error) { s.closers = append(s.closers, fn) }

// shutdown waits for the services and the other goroutines, then runs the cleanups in reverse order.
func (s *Stack) shutdown() error {
	errs := []error{s.group.wait()}
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// Wait blocks until the stack has shut down and returns what went wrong on the way (a service that failed,
// a cleanup that did not finish).
func (s *Stack) Wait() error {
	<-s.done
	return s.err
}

// Stop ends the stack as if Start's context had ended, and waits for it.
func (s *Stack) Stop() error {
	s.cancel()
	return s.Wait()
}

// URLs says where the endpoints are.
func (s *Stack) URLs() URLs { return s.urls }

// Emulator is the in-process Connect emulator (tests inspect its files and records).
func (s *Stack) Emulator() *connectemu.Emulator { return s.emulator }

// Catalogs is the world the stack runs.
func (s *Stack) Catalogs() Catalogs { return s.opts.Catalogs }

// Resumed reports whether the data directory already held a stack's state at start.
func (s *Stack) Resumed() bool { return s.resumed }

// splitHostPort splits host:port; port 0 means any free port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}
