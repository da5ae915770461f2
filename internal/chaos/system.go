package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
)

// apiKey is the Connect API key of a run's emulator and submitters.
const apiKey = "SU-900-000-001:chaos-run-key"

// Process kinds.
const (
	kindNATS       = "nats"
	kindEmulator   = "emulator"
	kindIngest     = "ingest"
	kindAggregator = "aggregator"
	kindSubmitter  = "submitter"
)

// Readiness bounds.
const (
	readyTimeout     = 90 * time.Second
	provisionAttempt = 5 * time.Second
)

// system is the processes of a run and how to reach them.
type system struct {
	cfg        Config
	dir        string // the run directory: catalogs, stores, logs
	bins       string
	nats       []*childproc.Proc
	natsAddrs  []string
	emulator   *childproc.Proc
	workers    map[string][]*childproc.Proc // by kind
	ingestURLs []string
	connectURL string
}

func newSystem(cfg Config, dir, bins string) *system {
	return &system{cfg: cfg, dir: dir, bins: bins, workers: map[string][]*childproc.Proc{}}
}

// natsURL is the comma-separated client URL list of the NATS nodes.
func (s *system) natsURL() string {
	urls := make([]string, len(s.natsAddrs))
	for i, a := range s.natsAddrs {
		urls[i] = "nats://" + a
	}
	return strings.Join(urls, ",")
}

// all returns every process, workers first and NATS last (the order to stop them in).
func (s *system) all() []*childproc.Proc {
	var ps []*childproc.Proc
	for _, kind := range []string{kindIngest, kindAggregator, kindSubmitter} {
		ps = append(ps, s.workers[kind]...)
	}
	if s.emulator != nil {
		ps = append(ps, s.emulator)
	}
	return append(ps, s.nats...)
}

// close kills every process for good.
func (s *system) close() {
	for _, p := range s.all() {
		p.Close()
	}
}

// newProc prepares a process whose log is logs/<name>.log; env adds to the filtered parent environment.
func (s *system) newProc(kind, name, bin string, args, env []string) *childproc.Proc {
	return childproc.New(childproc.Spec{Name: name, Kind: kind, Bin: filepath.Join(s.bins, bin), Args: args,
		Env: append(childproc.CleanEnv(), env...), LogPath: filepath.Join(s.dir, "logs", name+".log")})
}

// startNATS starts the NATS node(s), waits until they listen, and provisions the streams and buckets.
func (s *system) startNATS(ctx context.Context) error {
	n := s.cfg.Cluster
	addrs, err := childproc.FreeAddrs(2 * n)
	if err != nil {
		return err
	}
	clusterAddrs := addrs[n:]
	s.natsAddrs = addrs[:n]
	routes := make([]string, n)
	for i, a := range clusterAddrs {
		routes[i] = "nats-route://" + a
	}
	for i := range n {
		name := "nats-" + strconv.Itoa(i)
		args := []string{"nats", "--addr", s.natsAddrs[i], "--store", filepath.Join(s.dir, "nats", name), "--name", natsServerName(name)}
		if n > 1 { // the server log announces the meta leader, which the killer prefers (leader.go)
			args = append(args, "--cluster-addr", clusterAddrs[i], "--routes", strings.Join(routes, ","), "--cluster-name", "chaos", "--logs")
		}
		p := s.newProc(kindNATS, name, childproc.BinUsagepipe, args, nil)
		s.nats = append(s.nats, p)
		if err := p.Start(); err != nil {
			return err
		}
	}
	for _, a := range s.natsAddrs {
		if err := childproc.WaitListening(ctx, a, readyTimeout); err != nil {
			return fmt.Errorf("chaos: nats on %s: %w", a, err)
		}
	}
	if err := s.provision(ctx); err != nil {
		return errors.Join(err, s.natsExited())
	}
	return nil
}

// natsExited names the NATS nodes that are not running (one that could not bind its ports exits at start,
// and its address may be another process's); nil when all run.
func (s *system) natsExited() error {
	var errs []error
	for _, p := range s.nats {
		if !p.Running() {
			errs = append(errs, fmt.Errorf("chaos: %s is not running (its log: %s)", p.Name(), p.LogPath()))
		}
	}
	return errors.Join(errs...)
}

// provision creates the topology the workers share, retrying while a cluster elects its leaders.
func (s *system) provision(ctx context.Context) error {
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	top := bus.Topology{Partitions: s.cfg.Partitions, Replicas: s.replicas()}
	deadline := time.Now().Add(readyTimeout)
	for {
		actx, cancel := context.WithTimeout(ctx, provisionAttempt)
		err = conn.Provision(actx, top)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("chaos: provision: %w", err)
	}
	return nil
}

func (s *system) replicas() int { return s.cfg.Cluster }

// connect opens a bus connection to the run's NATS.
func (s *system) connect(ctx context.Context) (*bus.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	conn, err := bus.Connect(cctx, bus.Config{URL: s.natsURL(), Name: "chaos", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return conn, nil
}

// startEmulator starts the Connect emulator with the run's catalog and faults.
func (s *system) startEmulator(ctx context.Context) error {
	addrs, err := childproc.FreeAddrs(1)
	if err != nil {
		return err
	}
	addr := addrs[0]
	args := []string{"emulator", "--addr", addr, "--catalog", filepath.Join(s.dir, connectCatalogFile),
		"--api-key", apiKey, "--processing-delay", "200ms", "--accept-after", s.cfg.AcceptAfter.String()}
	for _, spec := range faultSpecs(s.cfg.FaultRate) {
		args = append(args, "--fault", spec)
	}
	s.emulator = s.newProc(kindEmulator, "emulator", childproc.BinUsagepipe, args, nil)
	s.connectURL = "http://" + addr + "/public/v1"
	if err := s.emulator.Start(); err != nil {
		return err
	}
	if err := childproc.WaitListening(ctx, addr, readyTimeout); err != nil {
		return fmt.Errorf("chaos: emulator: %w", err)
	}
	return nil
}

// startWorkers starts the ingest, aggregator and submitter processes and waits until ingest is ready.
func (s *system) startWorkers(ctx context.Context) error {
	addrs, err := childproc.FreeAddrs(s.cfg.Ingests)
	if err != nil {
		return err
	}
	for i, addr := range addrs {
		s.ingestURLs = append(s.ingestURLs, "http://"+addr)
		s.addWorker(kindIngest, i, childproc.BinIngest, "USAGEPIPE_HTTP_ADDR="+addr, "USAGEPIPE_ALLOW_ANONYMOUS=true", // loopback only
			"USAGEPIPE_KEEP_REJECTED="+strconv.FormatBool(s.cfg.DeadLetters))
	}
	for i := range s.cfg.Aggregators {
		s.addWorker(kindAggregator, i, childproc.BinAggregator, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0")
	}
	for i := range s.cfg.Submitters {
		s.addWorker(kindSubmitter, i, childproc.BinSubmitter, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
			"USAGEPIPE_CONNECT_URL="+s.connectURL, "USAGEPIPE_CONNECT_API_KEY="+apiKey,
			"USAGEPIPE_SUPPLEMENT_DELAY="+supplementDelay.String(), "USAGEPIPE_SCAN_INTERVAL="+scanInterval.String())
	}
	for _, kind := range []string{kindIngest, kindAggregator, kindSubmitter} {
		for _, p := range s.workers[kind] {
			if err := p.Start(); err != nil {
				return err
			}
		}
	}
	for _, u := range s.ingestURLs {
		if err := childproc.WaitHTTP(ctx, u+"/readyz", readyTimeout); err != nil {
			return fmt.Errorf("chaos: ingest %s: %w", u, err)
		}
	}
	return nil
}

// memberID is the stable member id of a worker slot: a restarted worker takes its own leases back at once,
// as a pod of a stateful set would.
func memberID(kind string, i int) string { return "chaos-" + kind + "-" + strconv.Itoa(i) }

// Submitter timings scaled to a run's seconds-long periods (the defaults suit periods of hours and days).
const (
	supplementDelay = 2 * time.Second
	scanInterval    = 5 * time.Second
)

// addWorker prepares worker i of a kind with the settings every worker shares, its member id and env.
func (s *system) addWorker(kind string, i int, bin string, env ...string) {
	common := []string{"USAGEPIPE_NATS_URL=" + s.natsURL(), "USAGEPIPE_PARTITIONS=" + strconv.Itoa(s.cfg.Partitions),
		"USAGEPIPE_REPLICAS=" + strconv.Itoa(s.replicas()), "USAGEPIPE_CATALOG=" + filepath.Join(s.dir, pipelineCatalogFile),
		"USAGEPIPE_MEMBER_ID=" + memberID(kind, i)}
	name := kind + "-" + strconv.Itoa(i)
	s.workers[kind] = append(s.workers[kind], s.newProc(kind, name, bin, nil, slices.Concat(common, env)))
}
