package submitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Submitter plans usage files from USAGE_AGG into the ledger and drives them through Connect. Build it with
// New; Run works until its context ends.
type Submitter struct {
	opts   Options
	bus    Bus
	client *usageapi.Client
	log    *slog.Logger
	tracer trace.Tracer
	ins    *instruments
	drv    *driver
	now    func() time.Time
	cache  planCache
	ledger *ledger.Store // set by Run
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
	s := &Submitter{opts: o, bus: conn, log: o.Logger, tracer: tp.Tracer(instrumentationName), ins: ins,
		now: time.Now}
	if s.client, err = newClient(o, tp, ins, s.log); err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	s.drv = newDriver(s)
	return s, nil
}

// Run consumes marks and adjustments, plans files and drives every non-terminal ledger entry until ctx
// ends. It returns nil after a cancellation, or the first error that stops it (an unusable ledger or
// consumer configuration).
func (s *Submitter) Run(ctx context.Context) error {
	l, err := ledger.Open(ctx, s.bus)
	if err != nil {
		return fmt.Errorf("submitter: %w", err)
	}
	s.ledger = l
	s.log.Info("submitter started", "member", s.opts.MemberID, "concurrency", s.opts.Concurrency,
		"max_records_per_file", s.opts.MaxRecordsPerFile)
	s.checkSchedules()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	runs := []func(context.Context) error{s.consumeMarks, s.consumeAdjustments, s.drv.run, s.sweepOrphans}
	errs := make([]error, len(runs))
	for i, run := range runs {
		wg.Go(func() {
			if errs[i] = run(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	s.log.Info("submitter stopped")
	return errors.Join(errs...)
}

// checkSchedules logs a warning for each way the catalog's periods go against Connect's scheduling advice
// (events.ScheduleWarnings). Files follow the catalog's periods, which the aggregator closes; the submitter
// reports each period as it closes.
func (s *Submitter) checkSchedules() {
	for _, w := range events.ScheduleWarnings(s.opts.Catalog) {
		s.log.Warn("the catalog goes against Connect's scheduling advice", "product", w.Product, "items", w.Items,
			"advice", w.Message)
	}
}
