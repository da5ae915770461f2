package status

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/svcstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// DefaultExportEvery is how often an Exporter reads a report: about Prometheus's scrape interval.
const DefaultExportEvery = 15 * time.Second

// meterName is the meter of the exporter's instruments.
const meterName = "github.com/usagepipe/usagepipe/internal/status"

// Exporter reads a report every so often and exports it as gauges, so that Prometheus alerts on what
// `status --check` judges, from one process (the submitter serves them). Prometheus names:
//
//	usagepipe_status_partition_owned{partition}                       1: a live aggregator holds the lease; 0: nobody folds it
//	usagepipe_status_partition_backlog_messages{partition}            messages after the partition's committed base
//	usagepipe_status_partition_backlog_seconds{partition}             stream time from the committed base to the newest message
//	usagepipe_status_consumer_pending_messages{stream,consumer}       messages a durable consumer was not delivered yet
//	usagepipe_status_consumer_ack_pending_messages{stream,consumer}   delivered, not acknowledged yet
//	usagepipe_status_periods_unmarked{product}                        periods past end + lateness not marked by every partition
//	usagepipe_status_periods_overdue{product,stage}                   periods not reported OverdueAfter after their close:
//	                                                                  stage "marks" (not marked by every partition) or "files"
//	usagepipe_status_files_parked                                     parked files and revisions (an operator must act)
//	usagepipe_status_dead_letters_recent{stage,reason}                dead letters stored within the dead-letter window
//	usagepipe_status_services_alive{kind}                             services with a live heartbeat, by kind
//	usagepipe_status_read_timestamp_seconds                           when the last report was read (Unix time)
//	usagepipe_status_read_duration_seconds                            how long that read took
//	usagepipe_status_reads_total{result}                              reads, "ok" or "error"
//
// The gauges show the last report read; before the first one only the reads counter exists. Safe for
// concurrent use: Run writes the report, the meter's collection reads it.
type Exporter struct {
	reader   Reader
	overdue  time.Duration
	reads    metric.Int64Counter
	mu       sync.Mutex
	last     *Report
	lastTook time.Duration
}

// NewExporter registers the exporter's instruments on mp's meter.
func NewExporter(r Reader, mp metric.MeterProvider) (*Exporter, error) {
	e := &Exporter{reader: r, overdue: r.Options.withDefaults().OverdueAfter}
	m := mp.Meter(meterName)
	var err error
	if e.reads, err = m.Int64Counter("usagepipe.status.reads", metric.WithDescription("status reads, by result")); err != nil {
		return nil, err
	}
	for _, result := range []string{"ok", "error"} {
		e.reads.Add(context.Background(), 0, metric.WithAttributes(attribute.String("result", result)))
	}
	g, err := newExporterGauges(m)
	if err != nil {
		return nil, err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.last != nil {
			g.observe(o, e.last, e.lastTook, e.overdue)
		}
		return nil
	}, g.all()...)
	return e, err
}

// Run reads a report now and every interval until ctx ends. A failed read is counted and logged; the gauges
// keep the last good report, and usagepipe_status_read_timestamp_seconds shows its age.
func (e *Exporter) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = DefaultExportEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "status metrics: read failed; the gauges keep the last report", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads one report and exports it; it returns the read's error (the last good report stays).
func (e *Exporter) Refresh(ctx context.Context) error {
	start := time.Now()
	r, err := e.reader.Status(ctx)
	result := "ok"
	if err != nil {
		result = "error"
	}
	e.reads.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.last, e.lastTook = r, time.Since(start)
	e.mu.Unlock()
	return nil
}

// exporterGauges are the observable gauges of the report.
type exporterGauges struct {
	owned, backlog, pending, ackPending, unmarked, overdue, parked, deadLetters, alive metric.Int64ObservableGauge
	backlogSeconds, readAt, readTook                                                   metric.Float64ObservableGauge
}

func newExporterGauges(m metric.Meter) (*exporterGauges, error) {
	g := &exporterGauges{}
	var errs []error
	i := func(p *metric.Int64ObservableGauge, name, unit, desc string) {
		var err error
		*p, err = m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	f := func(p *metric.Float64ObservableGauge, name, desc string) {
		var err error
		*p, err = m.Float64ObservableGauge(name, metric.WithUnit("s"), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	i(&g.owned, "usagepipe.status.partition.owned", "", "1 when a live aggregator holds the partition's lease")
	i(&g.backlog, "usagepipe.status.partition.backlog.messages", "{message}", "messages after the partition's committed base")
	f(&g.backlogSeconds, "usagepipe.status.partition.backlog", "stream time from the committed base to the newest message")
	i(&g.pending, "usagepipe.status.consumer.pending.messages", "{message}", "messages a durable consumer was not delivered yet")
	i(&g.ackPending, "usagepipe.status.consumer.ack_pending.messages", "{message}", "messages delivered to a durable consumer, not acknowledged")
	i(&g.unmarked, "usagepipe.status.periods.unmarked", "", "periods past end + lateness not marked by every partition")
	i(&g.overdue, "usagepipe.status.periods.overdue", "", "periods not reported long after their close, by stage (marks, files)")
	i(&g.parked, "usagepipe.status.files.parked", "", "parked files and revisions")
	i(&g.deadLetters, "usagepipe.status.dead_letters.recent", "", "dead letters stored within the dead-letter window")
	i(&g.alive, "usagepipe.status.services.alive", "", "services with a live heartbeat, by kind")
	f(&g.readAt, "usagepipe.status.read.timestamp", "when the last status report was read (Unix time)")
	f(&g.readTook, "usagepipe.status.read.duration", "how long the last status read took")
	return g, errors.Join(errs...)
}

func (g *exporterGauges) all() []metric.Observable {
	return []metric.Observable{g.owned, g.backlog, g.backlogSeconds, g.pending, g.ackPending, g.unmarked, g.overdue,
		g.parked, g.deadLetters, g.alive, g.readAt, g.readTook}
}

// observe reports r.
func (g *exporterGauges) observe(o metric.Observer, r *Report, took, overdueAfter time.Duration) {
	for _, p := range r.Owners {
		part := metric.WithAttributes(attribute.String("partition", strconv.Itoa(p.Partition)))
		o.ObserveInt64(g.owned, boolInt(p.Live), part)
		o.ObserveInt64(g.backlog, int64(p.Backlog), part)
		o.ObserveFloat64(g.backlogSeconds, p.LagSeconds, part)
	}
	for _, c := range r.Consumers {
		attrs := metric.WithAttributes(attribute.String("stream", c.Stream), attribute.String("consumer", c.Name))
		o.ObserveInt64(g.pending, int64(c.Pending), attrs)
		o.ObserveInt64(g.ackPending, int64(c.AckPending), attrs)
	}
	g.observePeriods(o, r, overdueAfter)
	o.ObserveInt64(g.parked, int64(len(r.Parked)))
	for _, d := range r.DeadLetters {
		o.ObserveInt64(g.deadLetters, int64(d.Recent), metric.WithAttributes(attribute.String("stage", d.Stage),
			attribute.String("reason", d.Reason)))
	}
	alive := map[string]int64{svcstatus.KindIngest: 0, svcstatus.KindAggregator: 0, svcstatus.KindSubmitter: 0}
	for _, s := range r.Services {
		alive[s.Kind]++
	}
	for kind, n := range alive {
		o.ObserveInt64(g.alive, n, metric.WithAttributes(attribute.String("kind", kind)))
	}
	o.ObserveFloat64(g.readAt, float64(r.At.UnixNano())/1e9)
	o.ObserveFloat64(g.readTook, took.Seconds())
}

// observePeriods counts, per product (every product of the report, zero included), the periods unmarked
// after their close and the overdue ones by stage.
func (g *exporterGauges) observePeriods(o metric.Observer, r *Report, overdueAfter time.Duration) {
	type counts struct{ unmarked, marks, files int64 }
	per := map[string]*counts{}
	for _, p := range r.Periods {
		c := per[p.Product]
		if c == nil {
			c = &counts{}
			per[p.Product] = c
		}
		switch {
		case p.Unmarked(r.At):
			c.unmarked++
			if p.Overdue(r.At, overdueAfter) {
				c.marks++
			}
		case p.Overdue(r.At, overdueAfter):
			c.files++
		}
	}
	for product, c := range per {
		prod := attribute.String("product", product)
		o.ObserveInt64(g.unmarked, c.unmarked, metric.WithAttributes(prod))
		o.ObserveInt64(g.overdue, c.marks, metric.WithAttributes(prod, attribute.String("stage", "marks")))
		o.ObserveInt64(g.overdue, c.files, metric.WithAttributes(prod, attribute.String("stage", "files")))
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
