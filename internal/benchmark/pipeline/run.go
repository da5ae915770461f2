package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
	"github.com/usagepipe/usagepipe/internal/progress"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Run performs a pipeline bench (see the package documentation) and prints its progress, summary and
// RESULT line to cfg.Out. The error reports a bench that could not be carried out: a bad configuration, a
// binary missing, a process that never became ready, no step sustained, ctx cancelled.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return Result{}, fmt.Errorf("pipeline: %w", err)
	}
	r := &run{cfg: cfg, log: progress.New(cfg.Out)}
	res, err := r.do(ctx)
	switch {
	case r.dir == "":
	case err != nil:
		fmt.Fprintf(cfg.Out, "run directory kept: %s\n", r.dir)
	case !cfg.Keep: // else report named it before the RESULT line, which stays the last
		_ = os.RemoveAll(r.dir)
	}
	return res, err
}

// run is the state of one Run.
type run struct {
	cfg   Config
	log   *progress.Log // progress lines
	dir   string
	sys   *system
	cat   *events.Catalog
	truth *truth
	conn  *follower
	watch *backlogWatch
	load  *loadgen
}

func (r *run) do(ctx context.Context) (Result, error) {
	bins, catalog, err := r.prepare(ctx)
	if err != nil {
		return Result{}, err
	}
	r.sys = newSystem(r.dir, bins, r.cfg.Partitions)
	defer r.sys.close()
	raw, err := r.rawBaseline(ctx)
	if err != nil {
		return Result{}, err
	}
	r.log.Printf("raw publish baseline: %.0f msgs/s (best of %d rounds)", raw, r.cfg.RawRounds)
	stop, err := r.startSystem(ctx, catalog)
	defer stop()
	if err != nil {
		return Result{}, err
	}
	sustained, saturated, err := r.stepUp(ctx)
	if err != nil {
		return Result{}, err
	}
	s, err := r.soak(ctx, sustained)
	if err != nil {
		return Result{}, err
	}
	r.settle(ctx, s)
	res := r.result(s, sustained, saturated, raw)
	r.report(s, res)
	return res, ctx.Err()
}

// prepare creates the run directory, the binaries and the catalog; it returns the binaries' directory and
// the catalog's path.
func (r *run) prepare(ctx context.Context) (string, string, error) {
	dir, err := os.MkdirTemp(r.cfg.WorkDir, "usagepipe-bench-pipeline-")
	if err != nil {
		return "", "", fmt.Errorf("pipeline: %w", err)
	}
	r.dir = dir
	for _, sub := range []string{"logs", "nats"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", "", fmt.Errorf("pipeline: %w", err)
		}
	}
	bins := r.cfg.BinDir
	if bins == "" {
		bins = filepath.Join(dir, "bin")
		r.log.Printf("building the binaries into %s", bins)
		err = childproc.Build(ctx, bins)
	} else {
		err = childproc.CheckBinaries(bins)
	}
	if err != nil {
		return "", "", err
	}
	catalog := filepath.Join(dir, "catalog.yaml")
	r.cat, err = writeCatalog(catalog, r.cfg)
	return bins, catalog, err
}

// startSystem starts the processes, the Connect follower and the backlog watch, and prepares the load
// generator. stop ends the goroutines (the processes end with r.sys.close).
func (r *run) startSystem(ctx context.Context, catalog string) (stop func(), err error) {
	r.log.Printf("starting nats, the emulator (automatic provider), ingest, %d aggregators and the submitter (logs in %s)",
		aggregators, filepath.Join(r.dir, "logs"))
	if err := r.sys.start(ctx, catalog); err != nil {
		return func() {}, err
	}
	conn, err := connectBus(ctx, r.sys.natsURL, "bench")
	if err != nil {
		return func() {}, err
	}
	created, err := conn.StreamCreated(ctx, bus.StreamEvents)
	if err != nil {
		conn.Close()
		return func() {}, fmt.Errorf("pipeline: %w", err)
	}
	client, err := usageapi.New(r.sys.connectURL, r.sys.connectKey)
	if err != nil {
		conn.Close()
		return func() {}, fmt.Errorf("pipeline: %w", err)
	}
	p, _ := r.cat.Product(productID(0))
	r.truth = newTruth(r.cfg.Period, r.cfg.Lateness)
	r.conn = newFollower(client, r.cat, r.cfg.Subscriptions, r.truth)
	r.watch = &backlogWatch{conn: conn, partitions: r.cfg.Partitions}
	r.load = newLoadgen(r.sys.ingestURL, r.sys.ingestKey, newGenerator(r.cfg, p.Period, created), newEncoder(r.cfg),
		r.truth, r.cfg.Batch)
	if r.load.log, err = openRequestLog(filepath.Join(r.dir, "requests.csv")); err != nil {
		conn.Close()
		return func() {}, err
	}
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.conn.run(bg) })
	wg.Go(func() { r.watch.run(bg) })
	return func() { cancel(); wg.Wait(); conn.Close(); r.load.log.close() }, nil
}
