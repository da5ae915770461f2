package aggregator

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names the tracer and meter of this package.
const instrumentationName = "github.com/usagepipe/usagepipe/internal/aggregator"

// instruments are a worker's metrics and tracer.
type instruments struct {
	tracer          trace.Tracer
	applied         metric.Int64Counter
	committedEvents metric.Int64Counter
	commits         metric.Int64Counter
	fenced          metric.Int64Counter
	ambiguous       metric.Int64Counter
	ticks           metric.Int64Counter
	snapshots       metric.Int64Counter
	replayGaps      metric.Int64Counter
	deadLetters     metric.Int64Counter // usagepipe_dead_letters_total{stage="aggregator",reason}
	owned           metric.Int64UpDownCounter
	lag             partitionGauge // seconds, sampled by each runner
	uncovered       partitionGauge // seconds, sampled by each runner
}

// partitionGauge holds the last value a runner sampled for its partition. Safe for concurrent use.
type partitionGauge struct {
	mu sync.Mutex
	v  map[int]float64
}

func (g *partitionGauge) set(p int, v float64) {
	g.mu.Lock()
	if g.v == nil {
		g.v = map[int]float64{}
	}
	g.v[p] = v
	g.mu.Unlock()
}

func (g *partitionGauge) observe(_ context.Context, o metric.Float64Observer) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, v := range g.v {
		o.Observe(v, metric.WithAttributes(attribute.Int("partition", p)))
	}
	return nil
}

func newInstruments(o Options) (*instruments, error) {
	tp, mp := o.TracerProvider, o.MeterProvider
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := mp.Meter(instrumentationName)
	ins := &instruments{tracer: tp.Tracer(instrumentationName)}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		if err == nil {
			c.Add(context.Background(), 0) // present at zero from the start, for rates and alerts
		}
		return c
	}
	ins.applied = counter("usagepipe.aggregator.events.applied", "{event}", "events folded (replays included)")
	ins.committedEvents = counter("usagepipe.aggregator.events.committed", "{event}", "events whose output was committed")
	ins.commits = counter("usagepipe.aggregator.commits", "{commit}", "successful commits")
	ins.fenced = counter("usagepipe.aggregator.commits.fenced", "{commit}", "commits rejected because another owner committed")
	ins.ambiguous = counter("usagepipe.aggregator.commits.ambiguous", "{commit}", "commits whose outcome had to be re-read")
	ins.ticks = counter("usagepipe.aggregator.ticks", "{tick}", "ticks published to idle partitions")
	ins.snapshots = counter("usagepipe.aggregator.snapshots", "{snapshot}", "partition snapshots stored")
	ins.replayGaps = counter("usagepipe.aggregator.replay.gaps", "{start}",
		"partition starts refused because committed source messages aged out and no snapshot covers them (ErrReplayGap)")
	var err error
	ins.deadLetters, err = m.Int64Counter("usagepipe.dead_letters", metric.WithUnit("{letter}"),
		metric.WithDescription("dead letters written, by stage and reason")) // at zero below, by stage and reason
	errs = append(errs, err)
	errs = append(errs, ins.registerGauges(m, o.EventsMaxAge))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, r := range deadLetterReasons {
		ins.deadLetters.Add(context.Background(), 0, deadLetterAttrs(r)) // every series exists from the start
	}
	return ins, nil
}

// registerGauges registers the partitions owned (at zero) and the sampled gauges: lag, snapshot coverage and
// the events stream's MaxAge the coverage is compared with.
func (ins *instruments) registerGauges(m metric.Meter, eventsMaxAge time.Duration) error {
	var err error
	ins.owned, err = m.Int64UpDownCounter("usagepipe.aggregator.partitions.owned", metric.WithUnit("{partition}"),
		metric.WithDescription("partitions whose lease this worker holds"))
	if err != nil {
		return err
	}
	ins.owned.Add(context.Background(), 0)
	_, err1 := m.Float64ObservableGauge("usagepipe.aggregator.lag", metric.WithUnit("s"),
		metric.WithDescription("stream time between a partition's newest message and the last one applied"),
		metric.WithFloat64Callback(ins.lag.observe))
	_, err2 := m.Float64ObservableGauge("usagepipe.aggregator.snapshot.uncovered_age", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest source message applied after the partition's newest snapshot "+
			"(alert well before the events stream's MaxAge)"),
		metric.WithFloat64Callback(ins.uncovered.observe))
	_, err3 := m.Float64ObservableGauge("usagepipe.aggregator.events.max_age", metric.WithUnit("s"),
		metric.WithDescription("USAGE_EVENTS's retention: snapshots must cover what is older (alert on the uncovered age against it)"),
		metric.WithFloat64Callback(func(_ context.Context, obs metric.Float64Observer) error {
			obs.Observe(eventsMaxAge.Seconds())
			return nil
		}))
	return errors.Join(err1, err2, err3)
}

// deadLetterReasons are the reasons of the aggregator's dead letters: what the fold refuses, and messages
// that are not packets.
var deadLetterReasons = events.StageReasons(events.StageAggregator)

func deadLetterAttrs(r events.Reason) metric.AddOption {
	return metric.WithAttributes(attribute.String("stage", events.StageAggregator), attribute.String("reason", string(r)))
}

// countDeadLetters counts the dead letters of a stored commit.
func (ins *instruments) countDeadLetters(ctx context.Context, dls []events.DeadLetter) {
	for i := range dls {
		ins.deadLetters.Add(ctx, 1, deadLetterAttrs(dls[i].Reason))
	}
}

func (ins *instruments) setLag(p int, seconds float64)       { ins.lag.set(p, seconds) }
func (ins *instruments) setUncovered(p int, seconds float64) { ins.uncovered.set(p, seconds) }

// sampleLag compares the stream time of the partition's newest message with that of the last one applied.
func (r *runner) sampleLag(ctx context.Context) {
	end, err := r.conn.LastMsg(ctx, bus.StreamEvents, subjects.Events(r.p))
	if err != nil {
		return
	}
	lag := 0.0
	if end.Seq > r.applied && !r.lastApplied.IsZero() {
		lag = max(end.Time.Sub(r.lastApplied), time.Duration(0)).Seconds()
	}
	r.ins.setLag(r.p, lag)
	r.stats.set(svcstatus.PartitionLag{Partition: r.p, Running: true, Applied: r.applied, AppliedAt: r.lastApplied,
		End: end.Seq, EndAt: end.Time, LagSeconds: lag, CaughtUp: r.applied >= r.catchUpTo})
}

// commitSpan starts the processing span of one commit, linked to the trace contexts of its events and source
// messages (pending.spanLinks).
func (r *runner) commitSpan(ctx context.Context, pend *pending) (context.Context, trace.Span) {
	return r.ins.tracer.Start(ctx, commitSpanName(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(pend.spanLinks()...),
		trace.WithAttributes(
			semconv.MessagingSystemKey.String("nats"),
			semconv.MessagingOperationName("process"),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingDestinationName(subjects.Events(r.p)),
			semconv.MessagingDestinationTemplate(subjects.EventsTemplate),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(r.p)),
			semconv.MessagingConsumerGroupName("aggregator"),
			semconv.MessagingBatchMessageCount(pend.messages),
			attribute.Int64("usagepipe.progress.from", int64(pend.from)),
			attribute.Int64("usagepipe.progress.to", int64(pend.to)),
			attribute.Int("usagepipe.events", pend.events),
		))
}
