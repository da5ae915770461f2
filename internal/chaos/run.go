package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
	"github.com/usagepipe/usagepipe/internal/progress"
	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Phases of a run.
const (
	natsKillAt   = 0.4              // share of the send window after which a NATS node is killed
	logEvery     = 10 * time.Second // progress lines while sending
	aggReadLimit = 2 * time.Minute
)

// Run performs a chaos run (see the package documentation) and prints its progress, summary and RESULT line
// to cfg.Out. The error reports a run that could not be carried out (bad configuration, a binary missing, a
// process that never became ready, ctx cancelled); a run that finds differences returns a Result whose OK is
// false and no error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return Result{}, fmt.Errorf("chaos: %w", err)
	}
	r := &run{cfg: cfg, log: progress.New(cfg.Out)}
	res, err := r.do(ctx)
	if !cfg.Keep && err == nil && res.OK() {
		_ = os.RemoveAll(r.dir)
	}
	return res, err
}

// run is the state of one Run.
type run struct {
	cfg  Config
	log  *progress.Log // progress lines
	dir  string
	sys  *system
	ps   []product
	held *product // the product held back from the pipeline's catalog (Config.DeadLetters), or nil
}

func (r *run) do(ctx context.Context) (Result, error) {
	bins, cat, err := r.prepare(ctx)
	if err != nil {
		return Result{Dir: r.dir}, err
	}
	ps := r.ps
	r.sys = newSystem(r.cfg, r.dir, bins)
	defer r.sys.close()
	if err := r.start(ctx); err != nil {
		return Result{Dir: r.dir}, err
	}
	conn, err := r.sys.connect(ctx)
	if err != nil {
		return Result{Dir: r.dir}, err
	}
	defer conn.Close()
	w, truth, err := r.plan(ctx, conn, cat, ps)
	if err != nil {
		return Result{Dir: r.dir}, err
	}
	rep := &report{cfg: r.cfg, products: ps, w: w, truth: truth}
	if err := r.drive(ctx, conn, rep, cat, lastClose(cat, w)); err != nil {
		return Result{Dir: r.dir}, err
	}
	if r.held != nil {
		if err := r.replayPhase(ctx, conn, rep, cat); err != nil {
			return Result{Dir: r.dir}, err
		}
	}
	r.diagnose(conn, cat, rep)
	return r.finish(rep), nil
}

// prepare creates the run directory, the binaries and the catalogs; it returns the full pipeline catalog
// (the truth's).
func (r *run) prepare(ctx context.Context) (string, *events.Catalog, error) {
	dir, err := os.MkdirTemp(r.cfg.WorkDir, "usagepipe-chaos-")
	if err != nil {
		return "", nil, fmt.Errorf("chaos: %w", err)
	}
	r.dir = dir
	for _, sub := range []string{"logs", "nats"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", nil, fmt.Errorf("chaos: %w", err)
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
		return "", nil, err
	}
	r.ps = runProducts(r.cfg.Products, r.cfg.Periods)
	if r.cfg.DeadLetters {
		h := heldProduct(r.ps[0])
		r.held = &h
	}
	_, full, err := writeCatalogs(dir, r.ps, r.held, r.cfg.Subscriptions)
	return bins, full, err
}

// start starts NATS, the emulator and the workers.
func (r *run) start(ctx context.Context) error {
	r.log.Printf("starting %d NATS node(s), the emulator and %d ingest, %d aggregator, %d submitter processes (logs in %s)",
		r.cfg.Cluster, r.cfg.Ingests, r.cfg.Aggregators, r.cfg.Submitters, filepath.Join(r.dir, "logs"))
	if err := r.sys.startNATS(ctx); err != nil {
		return err
	}
	if err := r.sys.startEmulator(ctx); err != nil {
		return err
	}
	return r.sys.startWorkers(ctx)
}

// plan fixes the run's start (aligned, and late enough that every event's period closes after the event
// stream was created: the aggregators mark periods from then on) and generates the workload and its truth.
func (r *run) plan(ctx context.Context, conn *bus.Conn, cat *events.Catalog, ps []product) (*Workload, reconcile.Totals, error) {
	created, err := conn.StreamCreated(ctx, bus.StreamEvents)
	if err != nil {
		return nil, nil, fmt.Errorf("chaos: %w", err)
	}
	earliest := time.Now().Add(time.Second)
	if t := created.Add(backdate(r.cfg) + time.Second); t.After(earliest) {
		earliest = t
	}
	align := alignOf(r.cfg.Periods)
	start := earliest.Truncate(align)
	if start.Before(earliest) {
		start = start.Add(align)
	}
	w := newWorkload(r.cfg, cat, ps, r.held, start)
	truth, err := Truth(cat, w.Events)
	if err != nil {
		return nil, nil, err
	}
	r.log.Printf("workload: %d events, %d sends, %d keys; sending from %s for %v",
		len(w.Events), len(w.Sends), len(truth), start.Format(time.TimeOnly), r.cfg.Duration)
	return w, truth, nil
}

// firstTruth is what Connect can bill before the replay phase: the truth without the keys of the held-back
// product and of the missing assets (their usage is dead-lettered until the fix).
func (r *run) firstTruth(truth reconcile.Totals) reconcile.Totals {
	if r.held == nil {
		return truth
	}
	gone := missing(r.ps)
	out := reconcile.Totals{}
	for k, v := range truth {
		if k.Product != r.held.id && !slices.Contains(gone, k.Asset) {
			out[k] = v
		}
	}
	return out
}

// lastClose is when the last period holding an event closes.
func lastClose(cat *events.Catalog, w *Workload) time.Time {
	var last time.Time
	for i := range w.Events {
		e := &w.Events[i]
		if p, ok := cat.Product(e.Data.Product); ok {
			if c := p.CloseAt(p.PeriodOf(e.Time)); c.After(last) {
				last = c
			}
		}
	}
	return last
}

// drive sends the workload while the killer works, then waits for Connect to settle.
func (r *run) drive(ctx context.Context, conn *bus.Conn, rep *report, cat *events.Catalog, closeAt time.Time) error {
	if err := r.send(ctx, rep, closeAt); err != nil {
		return err
	}
	sleepUntil(ctx, closeAt.Add(time.Second))
	client, err := usageapi.New(r.sys.connectURL, apiKey)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	settleFrom := time.Now()
	r.log.Printf("all periods closed; waiting up to %v for Connect to settle", r.cfg.SettleTimeout)
	ledger := func(ctx context.Context) (*reconcile.Ledger, error) { return reconcile.ReadLedger(ctx, conn) }
	v := &verifier{client: client, cat: cat, truth: r.firstTruth(rep.truth), ledger: ledger, logf: r.log.Printf}
	rep.v = v.wait(ctx, settleFrom.Add(r.cfg.SettleTimeout))
	rep.phases = fmt.Sprintf("start→settle %v, settle %v", settleFrom.Sub(r.log.Began()).Round(time.Second),
		time.Since(settleFrom).Round(time.Second))
	return ctx.Err()
}

// send waits for the start, then runs the producer and the killer; it returns once every send is confirmed
// and the killer has stopped (two kill intervals after closeAt, when the last period closes).
func (r *run) send(ctx context.Context, rep *report, closeAt time.Time) error {
	w := rep.w
	prod := newProducer(w, r.sys.ingestURLs, r.cfg.Seed)
	rep.prod = prod
	natsAt := w.Start.Add(time.Duration(natsKillAt * float64(r.cfg.Duration)))
	k := newKiller(r.sys, r.cfg.Seed, r.cfg.KillEvery, natsAt, closeAt.Add(2*r.cfg.KillEvery), r.log.Printf)
	r.log.Printf("waiting for the start at %s (aligned to %v, after the event stream's creation)", w.Start.Format(time.TimeOnly), alignOf(r.cfg.Periods))
	if !sleepUntil(ctx, w.Start) {
		return ctx.Err()
	}
	var wg sync.WaitGroup
	wg.Go(func() { k.run(ctx) })
	stop := r.progress(prod, len(w.Sends))
	err := prod.run(ctx)
	stop()
	rep.lastSent = time.Now()
	r.log.Printf("producer done: %d sends confirmed; waiting for the last period to close at %s and the killer to stop",
		prod.confirmed.Load(), closeAt.Format(time.TimeOnly))
	wg.Wait()
	rep.result.Kills, rep.result.KillsByKind = k.kills, k.byKind
	if err != nil {
		return fmt.Errorf("chaos: producer: %w", err)
	}
	return nil
}

// progress logs the producer's progress until the returned stop is called.
func (r *run) progress(p *producer, sends int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(logEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.log.Printf("sent %d/%d (%d requests, %d retried)", p.confirmed.Load(), sends, p.requests.Load(), p.retries.Load())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// diagnose compares the aggregators' output with the truth, to tell an aggregator fault from a submitter one.
func (r *run) diagnose(conn *bus.Conn, cat *events.Catalog, rep *report) {
	ctx, cancel := context.WithTimeout(context.Background(), aggReadLimit)
	defer cancel()
	agg, err := reconcile.ReadAgg(ctx, conn, reconcile.Keyer{Catalog: cat})
	if err != nil {
		r.log.Printf("reading USAGE_AGG: %v", err)
		return
	}
	rep.agg, rep.aggDiffs = agg, reconcile.Compare(rep.truth, agg.Totals)
	if rep.ledger, err = reconcile.ReadLedger(ctx, conn); err != nil {
		r.log.Printf("reading the ledger: %v", err)
	}
}

// finish fills the result, writes the summary and returns the result.
func (r *run) finish(rep *report) Result {
	res := &rep.result
	res.Events, res.Dir, res.DeadLettersOn = len(rep.w.Events), r.dir, r.held != nil
	res.setVerdict(rep.v)
	converging := rep.v
	if r.held != nil {
		converging = rep.first // the flow's own convergence, before the replay phase
	}
	res.setConvergence(rep.lastSent, converging)
	res.Rejected = rep.prod.rejected.Load()
	for _, p := range r.sys.all() {
		rep.procs = append(rep.procs, p.Stats())
	}
	rep.faults = readFaults(r.sys.emulator.LogPath())
	res.Faults = rep.faults.byKind
	res.Elapsed = time.Since(r.log.Began())
	rep.write(r.cfg.Out)
	return *res
}
