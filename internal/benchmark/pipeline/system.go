package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
)

// readyTimeout bounds every wait for a process to listen or be ready.
const readyTimeout = 90 * time.Second

// system is the processes of a run: one nats-server, the Connect emulator (automatic provider: files are
// accepted as soon as they are submitted), one ingest, two aggregators and one submitter, and how to reach
// them. The keys are made per run and never printed; they reach the children through their environment.
type system struct {
	dir, bins  string
	partitions int
	procs      []*childproc.Proc // in start order: nats, emulator, ingest, aggregators, submitter
	natsURL    string
	ingestURL  string
	connectURL string
	ingestKey  string
	connectKey string
}

// Process names.
const (
	nameNATS      = "nats"
	nameEmulator  = "emulator"
	nameIngest    = "ingest"
	nameSubmitter = "submitter"
	aggregators   = 2
)

func newSystem(dir, bins string, partitions int) *system {
	return &system{dir: dir, bins: bins, partitions: partitions, ingestKey: "bench-ingest-" + randomHex(),
		connectKey: "SU-700-000-001:bench-" + randomHex()}
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// spec is the command line of a process whose log is logs/<name>.log; env adds to the cleaned parent
// environment.
func (s *system) spec(kind, name, bin string, args []string, env ...string) childproc.Spec {
	return childproc.Spec{Name: name, Kind: kind, Bin: filepath.Join(s.bins, bin), Args: args,
		Env: append(childproc.CleanEnv(), env...), LogPath: filepath.Join(s.dir, "logs", name+".log")}
}

// proc prepares a process of the system (see spec).
func (s *system) proc(kind, name, bin string, args []string, env ...string) *childproc.Proc {
	p := childproc.New(s.spec(kind, name, bin, args, env...))
	s.procs = append(s.procs, p)
	return p
}

// close kills every process for good, the last started first.
func (s *system) close() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].Close()
	}
}

// start starts every process and waits until NATS is provisioned and ingest is ready; catalog is the
// pipeline catalog's path.
func (s *system) start(ctx context.Context, catalog string) error {
	if err := s.startNATS(ctx); err != nil {
		return err
	}
	addrs, err := childproc.FreeAddrs(2)
	if err != nil {
		return err
	}
	emulatorAddr, ingestAddr := addrs[0], addrs[1]
	s.connectURL, s.ingestURL = "http://"+emulatorAddr+"/public/v1", "http://"+ingestAddr
	emulator := s.proc(nameEmulator, nameEmulator, childproc.BinUsagepipe,
		[]string{"emulator", "--addr", emulatorAddr, "--events-catalog", catalog, "--auto-assets"},
		"USAGEPIPE_API_KEY="+s.connectKey)
	common := []string{"USAGEPIPE_NATS_URL=" + s.natsURL, "USAGEPIPE_PARTITIONS=" + strconv.Itoa(s.partitions),
		"USAGEPIPE_CATALOG=" + catalog}
	s.proc(nameIngest, nameIngest, childproc.BinIngest, nil,
		append(common, "USAGEPIPE_HTTP_ADDR="+ingestAddr, "USAGEPIPE_API_KEYS="+s.ingestKey)...)
	for i := range aggregators {
		name := "aggregator-" + strconv.Itoa(i)
		s.proc("aggregator", name, childproc.BinAggregator, nil,
			append(common, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0", "USAGEPIPE_MEMBER_ID=bench-"+name)...)
	}
	s.proc(nameSubmitter, nameSubmitter, childproc.BinSubmitter, nil, append(common, "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
		"USAGEPIPE_MEMBER_ID=bench-submitter", "USAGEPIPE_CONNECT_URL="+s.connectURL,
		"USAGEPIPE_CONNECT_API_KEY="+s.connectKey)...)
	for _, p := range s.procs[1:] {
		if err := p.Start(); err != nil {
			return err
		}
	}
	if err := childproc.WaitListening(ctx, emulatorAddr, readyTimeout); err != nil {
		return fmt.Errorf("pipeline: emulator: %w (log %s)", err, emulator.LogPath())
	}
	if err := childproc.WaitHTTP(ctx, s.ingestURL+"/readyz", readyTimeout); err != nil {
		return fmt.Errorf("pipeline: ingest: %w (log in %s)", err, filepath.Join(s.dir, "logs"))
	}
	return nil
}

// startNATS starts the nats-server and provisions the streams and buckets.
func (s *system) startNATS(ctx context.Context) error {
	spec, url, err := s.natsSpec(nameNATS)
	if err != nil {
		return err
	}
	p := childproc.New(spec)
	s.procs = append(s.procs, p)
	if err := startListening(ctx, p, url); err != nil {
		return err
	}
	s.natsURL = url
	conn, err := connectBus(ctx, url, "bench-provision")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Provision(ctx, bus.Topology{Partitions: s.partitions}); err != nil {
		return fmt.Errorf("pipeline: provision: %w", err)
	}
	return nil
}

// natsSpec is the command line of a nats-server named name on a free port, with its store in nats/<name>,
// and its client URL.
func (s *system) natsSpec(name string) (childproc.Spec, string, error) {
	addrs, err := childproc.FreeAddrs(1)
	if err != nil {
		return childproc.Spec{}, "", err
	}
	args := []string{"nats", "--addr", addrs[0], "--store", filepath.Join(s.dir, "nats", name)}
	return s.spec(nameNATS, name, childproc.BinUsagepipe, args), "nats://" + addrs[0], nil
}

// startListening starts p and waits until it listens on the host:port of url.
func startListening(ctx context.Context, p *childproc.Proc, url string) error {
	if err := p.Start(); err != nil {
		return err
	}
	if err := childproc.WaitListening(ctx, strings.TrimPrefix(url, "nats://"), readyTimeout); err != nil {
		return fmt.Errorf("pipeline: %s: %w (log %s)", p.Name(), err, p.LogPath())
	}
	return nil
}

// connectBus opens a bus connection for the bench itself.
func connectBus(ctx context.Context, url, name string) (*bus.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	conn, err := bus.Connect(cctx, bus.Config{URL: url, Name: name, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return conn, nil
}

// usage is the resident memory and CPU time of one process.
type usage struct {
	name string
	rss  int64
	cpu  time.Duration
}

// usages reads every running process's RSS and CPU time, then the bench's own (named "bench").
func (s *system) usages() []usage {
	var out []usage
	for _, p := range s.procs {
		pid := p.Pid()
		if pid == 0 {
			continue
		}
		out = append(out, readUsage(p.Name(), pid))
	}
	return append(out, readUsage(nameBench, os.Getpid()))
}

// nameBench names the bench's own process (the load generator and Connect follower) in usage reports.
const nameBench = "bench"

func readUsage(name string, pid int) usage {
	u := usage{name: name}
	u.rss, _ = childproc.ReadRSS(pid)
	u.cpu, _ = childproc.ReadCPU(pid)
	return u
}
