package aggregator

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of Options.
const (
	DefaultDedupHorizon           = 24 * time.Hour
	DefaultCommitInterval         = 200 * time.Millisecond
	DefaultProgressCommitInterval = time.Second
	DefaultCommitMessages         = 1000
	DefaultCommitOutputs          = 20000
	DefaultSnapshotInterval       = 30 * time.Second
	DefaultSnapshotEvents         = 200000
	DefaultSnapshotsKept          = 3
	DefaultHeartbeat              = time.Second
	DefaultLeaseTTL               = 5 * time.Second
	DefaultTickInterval           = time.Second
	DefaultEventsMaxAge           = 7 * 24 * time.Hour // bus.Topology's default
)

// Options configures a Worker. Catalog and Partitions are required; zero fields take the defaults above.
type Options struct {
	MemberID       string          // this member's id; default hostname-pid
	Catalog        *events.Catalog // products: periods, aggregations, lateness
	Partitions     int             // P, the same on every worker and in the topology
	DedupHorizon   time.Duration   // how long (arrival time) an event id is remembered
	CommitInterval time.Duration   // commit at least this often while messages are pending
	// ProgressCommitInterval: while the pending output holds no closed record and no mark (nothing the
	// submitter waits for), commit at least this often instead (see runner.commitAge; below CommitInterval,
	// CommitInterval applies).
	ProgressCommitInterval time.Duration
	CommitMessages         int           // commit after this many source messages
	CommitOutputs          int           // commit when the pending output holds this many records
	SnapshotInterval       time.Duration // snapshot after a commit when the last one is this old...
	SnapshotEvents         int           // ...or this many events were applied since
	SnapshotsKept          int           // newest snapshots kept per partition
	Heartbeat              time.Duration // member heartbeat and lease renewal period
	LeaseTTL               time.Duration // member and lease expiry after the last renewal
	TickInterval           time.Duration // minimum time between two ticks of a partition
	NoTicks                bool          // never publish ticks (replays and deterministic tests)
	EventsMaxAge           time.Duration // USAGE_EVENTS retention: snapshots must cover committed messages older than half of it
	MaxCommits             int           // atomic batches this worker has open at once (DefaultMaxConcurrentCommits)
	OpsAddr                string        // where its /metrics and /healthz listen, shown in its status heartbeat
	// Now is the worker's clock (nil: time.Now): heartbeats and lease expiries, commit, snapshot, tick and
	// idle timing. The fold never reads it: periods close by the stream's time.
	Now func() time.Time

	partMessages int // output messages per atomic batch (tests lower it to exercise split commits)

	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// defaultPartMessages is the default of Options.partMessages: the most output messages an atomic batch holds
// besides its progress record. The SIGKILL tests lower it in their worker processes to split commits.
var defaultPartMessages = bus.MaxAtomicBatch - 1

// DefaultMemberID is hostname-pid.
func DefaultMemberID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "aggregator"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// withDefaults returns o with zero fields set.
func (o Options) withDefaults() Options {
	config.SetDefault(&o.MemberID, DefaultMemberID())
	config.SetDefault(&o.DedupHorizon, DefaultDedupHorizon)
	config.SetDefault(&o.CommitInterval, DefaultCommitInterval)
	config.SetDefault(&o.ProgressCommitInterval, DefaultProgressCommitInterval)
	config.SetDefault(&o.CommitMessages, DefaultCommitMessages)
	config.SetDefault(&o.CommitOutputs, DefaultCommitOutputs)
	config.SetDefault(&o.SnapshotInterval, DefaultSnapshotInterval)
	config.SetDefault(&o.SnapshotEvents, DefaultSnapshotEvents)
	config.SetDefault(&o.SnapshotsKept, DefaultSnapshotsKept)
	config.SetDefault(&o.Heartbeat, DefaultHeartbeat)
	config.SetDefault(&o.LeaseTTL, DefaultLeaseTTL)
	config.SetDefault(&o.TickInterval, DefaultTickInterval)
	config.SetDefault(&o.EventsMaxAge, DefaultEventsMaxAge)
	config.SetDefault(&o.MaxCommits, DefaultMaxConcurrentCommits)
	config.SetDefault(&o.partMessages, defaultPartMessages)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Check reports every problem of o at once.
func (o Options) Check() error {
	var errs []error
	if o.Catalog == nil {
		errs = append(errs, errors.New("no catalog"))
	}
	if o.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d: want ≥ 1", o.Partitions))
	}
	if o.MaxCommits < 0 {
		errs = append(errs, fmt.Errorf("max concurrent commits %d: want ≥ 1", o.MaxCommits))
	}
	return errors.Join(append(errs, o.checkTiming())...)
}

// checkTiming reports problems of the durations.
func (o Options) checkTiming() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"dedup horizon", o.DedupHorizon}, {"commit interval", o.CommitInterval},
		{"progress commit interval", o.ProgressCommitInterval}, {"snapshot interval", o.SnapshotInterval},
		{"heartbeat", o.Heartbeat}, {"lease ttl", o.LeaseTTL}, {"tick interval", o.TickInterval},
		{"events max age", o.EventsMaxAge}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v: must not be negative", d.name, d.v))
		}
	}
	if o.LeaseTTL > 0 && o.Heartbeat > 0 && o.LeaseTTL < 2*o.Heartbeat {
		errs = append(errs, fmt.Errorf("lease ttl %v: want at least two heartbeats (%v)", o.LeaseTTL, 2*o.Heartbeat))
	}
	return errors.Join(errs...)
}
