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
		env: append(childEnv(), env...), logPath: filepath.Join(s.dir, "logs", name+".log")}
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
	routes := make([]string, n)
	clusterAddrs := make([]string, n)
	s.natsAddrs = make([]string, n)
	for i := range n {
		s.natsAddrs[i] = freeAddr()
		clusterAddrs[i] = freeAddr()
		routes[i] = "nats-route://" + clusterAddrs[i]
	}
	for i := range n {
		name := "nats-" + strconv.Itoa(i)
		args := []string{"nats", "--addr", s.natsAddrs[i], "--store", filepath.Join(s.dir, "nats", name), "--name", "chaos-" + name}
		if n > 1 {
			args = append(args, "--cluster-addr", clusterAddrs[i], "--routes", strings.Join(routes, ","), "--cluster-name", "chaos")
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
	addr := freeAddr()
	args := []string{"emulator", "--addr", addr, "--catalog", filepath.Join(s.dir, connectCatalogFile),
		"--api-key", apiKey, "--processing-delay", "200ms", "--accept-after", "300ms"}
	if spec := faultSpec(s.cfg.FaultRate); spec != "" {
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

// faultKinds are the emulator faults a run injects, each with an equal share of the fault rate.
var faultKinds = []string{"429", "500", "503", "reset", "commit-drop"}

// faultSpec is the emulator's --fault value for every route: each kind with probability rate/len(kinds).
func faultSpec(rate float64) string {
	if rate <= 0 {
		return ""
	}
	parts := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		parts[i] = k + "~" + strconv.FormatFloat(rate/float64(len(faultKinds)), 'g', 6, 64)
	}
	return "*=" + strings.Join(parts, ",")
}

// startWorkers starts the ingest, aggregator and submitter processes and waits until ingest is ready.
func (s *system) startWorkers(ctx context.Context) error {
	common := []string{"USAGEPIPE_NATS_URL=" + s.natsURL(), "USAGEPIPE_PARTITIONS=" + strconv.Itoa(s.cfg.Partitions),
		"USAGEPIPE_REPLICAS=" + strconv.Itoa(s.replicas()), "USAGEPIPE_CATALOG=" + filepath.Join(s.dir, pipelineCatalogFile)}
	for i := range s.cfg.Ingests {
		addr := freeAddr()
		s.ingestURLs = append(s.ingestURLs, "http://"+addr)
		s.addWorker(kindIngest, i, binIngest, slices.Concat(common, []string{"USAGEPIPE_HTTP_ADDR=" + addr}))
	}
	for i := range s.cfg.Aggregators {
		s.addWorker(kindAggregator, i, binAggregator, slices.Concat(common, []string{"USAGEPIPE_METRICS_ADDR=127.0.0.1:0"}))
	}
	for i := range s.cfg.Submitters {
		s.addWorker(kindSubmitter, i, binSubmitter, slices.Concat(common, []string{"USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
			"USAGEPIPE_CONNECT_URL=" + s.connectURL, "USAGEPIPE_CONNECT_API_KEY=" + apiKey}))
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

func (s *system) addWorker(kind string, i int, bin string, env []string) {
	name := kind + "-" + strconv.Itoa(i)
	s.workers[kind] = append(s.workers[kind], s.newProc(kind, name, bin, nil, env))
}

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr() string {
	port, err := natsembed.FreePort("127.0.0.1")
	if err != nil {
		panic("chaos: no free port: " + err.Error())
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
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
