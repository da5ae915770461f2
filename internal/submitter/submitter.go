package submitter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel"
)

// Submitter plans usage files from USAGE_AGG into the ledger and drives them through Connect. Build it with
// New; Run works until its context ends. It puts together the three roles (doc.go): the planner, the
// driver and the orphan sweeper, and runs the ledger scan that feeds the first two.
type Submitter struct {
	opts  Options
	bus   Bus
	plan  *planner
	drive *driver
	sweep *orphanSweeper
}

// New returns a submitter using conn and a Connect client built from o. It does not touch the network.
func New(conn Bus, o Options) (*Submitter, error) {
	o = o.withDefaults()
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	ins, err := newInstruments(o.MeterProvider)
	if err != nil {
		return nil, fmt.Errorf("submitter: metrics: %w", err)
	}
	client, err := newClient(o, tp, ins, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	tracer, cache := tp.Tracer(instrumentationName), &planCache{}
	drive := newDriver(o, conn, conn, client, cache, ins, tracer)
	plan := newPlanner(o, conn, drive, cache, ins, tracer)
	drive.nudger = plan
	return &Submitter{opts: o, bus: conn, drive: drive, plan: plan,
		sweep: &orphanSweeper{connect: client, interval: o.OrphanInterval, log: o.Logger, ins: ins}}, nil
}

// useLedger hands the ledger to the roles that read and write it.
func (s *Submitter) useLedger(l *ledger.Store) {
	s.plan.ledger, s.drive.ledger, s.sweep.ledger = l, l, l
}

// Run consumes marks and adjustments, plans files and drives every non-terminal ledger entry until ctx
// ends. It returns nil after a cancellation, or the first error that stops it (an unusable ledger or
// consumer configuration).
func (s *Submitter) Run(ctx context.Context) error {
	l, err := ledger.Open(ctx, s.bus)
	if err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	s.useLedger(l)
	s.opts.Logger.Info("submitter started", "member", s.opts.MemberID, "concurrency", s.opts.Concurrency,
		"max_records_per_file", s.opts.MaxRecordsPerFile)
	s.checkSchedules()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	runs := []func(context.Context) error{s.plan.consumeMarks, s.plan.consumeAdjustments, s.plan.planNudged, s.drive.run,
		s.scanLedger, s.sweep.sweepOrphans, s.retain, s.heartbeat}
	errs := make([]error, len(runs))
	for i, run := range runs {
		wg.Go(func() {
			if errs[i] = run(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	s.opts.Logger.Info("submitter stopped")
	return errors.Join(errs...)
}

// scanLedger scans the ledger at start and every ScanInterval until ctx ends: the driver takes up the
// entries it does not know (planned by another submitter, or left by an earlier run), then the planner
// looks at the parked revisions (plan_replan.go), then the open dead letters are counted (census.go). Each
// one that fails is tried again at the next scan.
func (s *Submitter) scanLedger(ctx context.Context) error {
	t := time.NewTicker(s.opts.ScanInterval)
	defer t.Stop()
	for {
		if err := s.drive.scan(ctx); err == nil {
			s.plan.checkParked(ctx)
		} else if ctx.Err() == nil {
			s.opts.Logger.WarnContext(ctx, "submitter: ledger scan failed", "err", err)
		}
		s.takeCensus(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// heartbeat writes the submitter's status heartbeat (internal/svcstatus) until ctx ends: the files it knows
// of, by ledger state.
func (s *Submitter) heartbeat(ctx context.Context) error {
	svcstatus.Run(ctx, s.bus, svcstatus.Heartbeat{Kind: svcstatus.KindSubmitter, Member: s.opts.MemberID,
		OpsAddr: s.opts.OpsAddr}, func(hb *svcstatus.Heartbeat) {
		hb.Submitter = &svcstatus.Submitter{Files: s.plan.ins.filesByState()}
	}, s.opts.Logger)
	return nil
}

// checkSchedules logs a warning for each way the catalog's periods go against Connect's scheduling advice
// (events.ScheduleWarnings). Files follow the catalog's periods, which the aggregator closes; the submitter
// reports each period as it closes.
func (s *Submitter) checkSchedules() {
	for _, w := range events.ScheduleWarnings(s.opts.Catalog) {
		s.opts.Logger.Warn("the catalog goes against Connect's scheduling advice", "product", w.Product, "items", w.Items,
			"advice", w.Message)
	}
}
