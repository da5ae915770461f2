package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed"
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
	nats       []*proc
	natsAddrs  []string
	emulator   *proc
	workers    map[string][]*proc // by kind
	ingestURLs []string
	connectURL string
}

func newSystem(cfg Config, dir, bins string) *system {
	return &system{cfg: cfg, dir: dir, bins: bins, workers: map[string][]*proc{}}
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
func (s *system) all() []*proc {
	var ps []*proc
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
		p.close()
	}
}

// newProc prepares a process whose log is logs/<name>.log; env adds to the filtered parent environment.
func (s *system) newProc(kind, name, bin string, args, env []string) *proc {
	return &proc{name: name, kind: kind, bin: filepath.Join(s.bins, bin), args: args,
		env: append(childEnv(), env...), logPath: filepath.Join(s.dir, "logs", name+".log"), quit: make(chan struct{})}
}

// childEnv is the parent's environment without USAGEPIPE_* and OTEL_* settings (the run sets its own), with
// tracing export off.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USAGEPIPE_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "OTEL_SDK_DISABLED=true")
}

// startNATS starts the NATS node(s), waits until they listen, and provisions the streams and buckets.
func (s *system) startNATS(ctx context.Context) error {
	n := s.cfg.Cluster
	addrs, err := freeAddrs(2 * n)
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
		p := s.newProc(kindNATS, name, binUsagepipe, args, nil)
		s.nats = append(s.nats, p)
		if err := p.start(); err != nil {
			return err
		}
	}
	for _, a := range s.natsAddrs {
		if err := waitListening(ctx, a, readyTimeout); err != nil {
			return fmt.Errorf("chaos: nats on %s: %w", a, err)
		}
	}
	return s.provision(ctx)
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
	addrs, err := freeAddrs(1)
	if err != nil {
		return err
	}
	addr := addrs[0]
	args := []string{"emulator", "--addr", addr, "--catalog", filepath.Join(s.dir, connectCatalogFile),
		"--api-key", apiKey, "--processing-delay", "200ms", "--accept-after", s.cfg.AcceptAfter.String()}
	for _, spec := range faultSpecs(s.cfg.FaultRate) {
		args = append(args, "--fault", spec)
	}
	s.emulator = s.newProc(kindEmulator, "emulator", binUsagepipe, args, nil)
	s.connectURL = "http://" + addr + "/public/v1"
	if err := s.emulator.start(); err != nil {
		return err
	}
	if err := waitListening(ctx, addr, readyTimeout); err != nil {
		return fmt.Errorf("chaos: emulator: %w", err)
	}
	return nil
}

// startWorkers starts the ingest, aggregator and submitter processes and waits until ingest is ready.
func (s *system) startWorkers(ctx context.Context) error {
	addrs, err := freeAddrs(s.cfg.Ingests)
	if err != nil {
		return err
	}
	for i, addr := range addrs {
		s.ingestURLs = append(s.ingestURLs, "http://"+addr)
		s.addWorker(kindIngest, i, binIngest, "USAGEPIPE_HTTP_ADDR="+addr, "USAGEPIPE_ALLOW_ANONYMOUS=true", // loopback only
			"USAGEPIPE_KEEP_REJECTED="+strconv.FormatBool(s.cfg.DeadLetters))
	}
	for i := range s.cfg.Aggregators {
		s.addWorker(kindAggregator, i, binAggregator, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0")
	}
	for i := range s.cfg.Submitters {
		s.addWorker(kindSubmitter, i, binSubmitter, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
			"USAGEPIPE_CONNECT_URL="+s.connectURL, "USAGEPIPE_CONNECT_API_KEY="+apiKey,
			"USAGEPIPE_SUPPLEMENT_DELAY="+supplementDelay.String(), "USAGEPIPE_SCAN_INTERVAL="+scanInterval.String())
	}
	for _, kind := range []string{kindIngest, kindAggregator, kindSubmitter} {
		for _, p := range s.workers[kind] {
			if err := p.start(); err != nil {
				return err
			}
		}
	}
	for _, u := range s.ingestURLs {
		if err := waitHTTP(ctx, u+"/readyz", readyTimeout); err != nil {
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

// freeAddrs returns n loopback addresses with ports that were free a moment ago.
func freeAddrs(n int) ([]string, error) {
	addrs := make([]string, n)
	for i := range addrs {
		port, err := natsembed.FreePort("127.0.0.1")
		if err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	return addrs, nil
}

// waitListening waits until addr accepts TCP connections.
func waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return poll(ctx, timeout, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %s", url, resp.Status)
		}
		return nil
	})
}

// poll calls try every 100ms until it succeeds, ctx ends or timeout passes; it returns try's last error.
func poll(ctx context.Context, timeout time.Duration, try func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := try()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
