package submitter

import (
	"context"
	"sync"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// instrumentationName is the tracer and meter name of this package.
const instrumentationName = "github.com/usagepipe/usagepipe/internal/submitter"

// instruments are the submitter's metrics (Prometheus names after the exporter's translation):
//
//	usagepipe_submitter_files_total{state,kind}          files entering each ledger state
//	usagepipe_submitter_files_current{state}              entries this process knows, by state (gauge)
//	usagepipe_submitter_records_submitted_total{kind}     records in files submitted to the provider
//	usagepipe_submitter_retries_total{op,reason}          retried Connect calls and rescheduled steps
//	usagepipe_submitter_dead_letters_total{reason}        records moved to USAGE_DLQ
//	usagepipe_dead_letters_total{stage,reason}            the same, as every stage counts its dead letters
//	                                                       (stage="submitter", every reason from zero)
//	usagepipe_dead_letters_open{stage,reason}             dead letters not replayed yet, of every stage (census.go;
//	                                                       every submitter exports it: aggregate with max)
//	usagepipe_submitter_plan_errors_total                  planning attempts that failed (redelivered)
//	usagepipe_submitter_plans_failed_total{reason}         ledger entries written as failed by planning
//	usagepipe_submitter_orphans_total{action}              orphan Connect files found by a sweep (orphans.go)
//	usagepipe_submitter_close_to_submit_seconds{kind}     period close (last mark) → file submitted
//	usagepipe_submitter_close_to_accept_seconds{kind}     period close → file accepted
//	usagepipe_submitter_connect_requests_total{result}    Connect API requests by result (connect_requests.go)
//
// Counters with closed label sets are present at zero from the start (retries' ops and reasons are open).
type instruments struct {
	files       metric.Int64Counter
	records     metric.Int64Counter
	retries     metric.Int64Counter
	deadLetters metric.Int64Counter
	stageDLs    metric.Int64Counter
	planErrors  metric.Int64Counter
	plansFailed metric.Int64Counter
	orphans     metric.Int64Counter
	toSubmit    metric.Float64Histogram
	toAccept    metric.Float64Histogram
	connect     metric.Int64Counter

	mu     sync.Mutex
	states map[string]ledger.State // key → state, for the files gauge

	census deadLetterCensus // the open dead letters gauge's last census
}

// latencyBuckets span a zero-delay emulator (sub-second) to a provider deciding within days.
var latencyBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400, 259200}

func newInstruments(mp metric.MeterProvider) (*instruments, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := mp.Meter(instrumentationName)
	ins := &instruments{states: map[string]ledger.State{}}
	var errs [12]error
	ins.files, errs[0] = m.Int64Counter("usagepipe.submitter.files", metric.WithDescription("files entering each ledger state"))
	ins.records, errs[1] = m.Int64Counter("usagepipe.submitter.records.submitted", metric.WithDescription("records in submitted files"))
	ins.retries, errs[2] = m.Int64Counter("usagepipe.submitter.retries", metric.WithDescription("retried Connect calls and rescheduled steps"))
	ins.deadLetters, errs[3] = m.Int64Counter("usagepipe.submitter.dead_letters", metric.WithDescription("records moved to USAGE_DLQ"))
	ins.planErrors, errs[4] = m.Int64Counter("usagepipe.submitter.plan_errors", metric.WithDescription("failed planning attempts"))
	ins.toSubmit, errs[5] = m.Float64Histogram("usagepipe.submitter.close_to_submit", metric.WithUnit("s"),
		metric.WithDescription("period close to file submitted"), metric.WithExplicitBucketBoundaries(latencyBuckets...))
	ins.toAccept, errs[6] = m.Float64Histogram("usagepipe.submitter.close_to_accept", metric.WithUnit("s"),
		metric.WithDescription("period close to file accepted"), metric.WithExplicitBucketBoundaries(latencyBuckets...))
	ins.plansFailed, errs[8] = m.Int64Counter("usagepipe.submitter.plans.failed", metric.WithDescription("ledger entries written as failed by planning"))
	ins.orphans, errs[9] = m.Int64Counter("usagepipe.submitter.orphans", metric.WithDescription("orphan Connect files found by a sweep"))
	ins.stageDLs, errs[10] = m.Int64Counter("usagepipe.dead_letters", metric.WithUnit("{letter}"),
		metric.WithDescription("dead letters written, by stage and reason"))
	_, errs[7] = m.Int64ObservableGauge("usagepipe.submitter.files.current", metric.WithDescription("ledger entries known, by state"),
		metric.WithInt64Callback(ins.observeStates))
	_, errs[11] = m.Int64ObservableGauge("usagepipe.dead_letters.open", metric.WithUnit("{letter}"),
		metric.WithDescription("dead letters not replayed yet, by stage and reason"), metric.WithInt64Callback(ins.census.observe))
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var err error
	if ins.connect, err = m.Int64Counter("usagepipe.submitter.connect.requests", metric.WithDescription("Connect API requests, by result")); err != nil {
		return nil, err
	}
	ins.addZeros()
	return ins, nil
}

// addZeros records every series of a closed label set at zero, so rates and alerts see them from the start.
func (ins *instruments) addZeros() {
	ctx, attrs := context.Background(), metric.WithAttributes
	for _, kind := range []string{"closed", "supplement"} {
		for _, s := range ledger.AllStates {
			ins.files.Add(ctx, 0, attrs(attribute.String("state", string(s)), attribute.String("kind", kind)))
		}
		ins.records.Add(ctx, 0, attrs(attribute.String("kind", kind)))
	}
	for _, a := range []string{orphanDeleted, orphanReported, orphanUnknown} {
		ins.orphans.Add(ctx, 0, attrs(attribute.String("action", a)))
	}
	for _, r := range connectResults {
		ins.connect.Add(ctx, 0, attrs(attribute.String("result", r)))
	}
	for _, r := range []events.Reason{reasonConnectInvalid, reasonUnwritable} {
		ins.deadLetters.Add(ctx, 0, attrs(attribute.String("reason", string(r))))
		ins.stageDLs.Add(ctx, 0, deadLetterAttrs(r))
	}
	ins.planErrors.Add(ctx, 0)
}

func deadLetterAttrs(r events.Reason) metric.AddOption {
	return metric.WithAttributes(attribute.String("stage", events.StageSubmitter), attribute.String("reason", string(r)))
}

// deadLettered counts n records dead-lettered for r.
func (ins *instruments) deadLettered(ctx context.Context, r events.Reason, n int) {
	ins.deadLetters.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", string(r))))
	ins.stageDLs.Add(ctx, int64(n), deadLetterAttrs(r))
}

func (ins *instruments) observeStates(_ context.Context, o metric.Int64Observer) error {
	ins.mu.Lock()
	counts := map[ledger.State]int64{}
	for _, s := range ins.states {
		counts[s]++
	}
	ins.mu.Unlock()
	for _, s := range ledger.AllStates {
		o.Observe(counts[s], metric.WithAttributes(attribute.String("state", string(s))))
	}
	return nil
}

// filesByState counts the entries known, by state (for the status heartbeat).
func (ins *instruments) filesByState() map[string]int {
	ins.mu.Lock()
	defer ins.mu.Unlock()
	counts := map[string]int{}
	for _, s := range ins.states {
		counts[string(s)]++
	}
	return counts
}

// track records the state of an entry for the gauge.
func (ins *instruments) track(key string, s ledger.State) {
	ins.mu.Lock()
	ins.states[key] = s
	ins.mu.Unlock()
}

// retried counts one retry.
func (ins *instruments) retried(ctx context.Context, op, reason string) {
	ins.retries.Add(ctx, 1, metric.WithAttributes(attribute.String("op", op), attribute.String("reason", reason)))
}
