package submitter

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of Options.
const (
	// DefaultMaxRecordsPerFile is the record limit of one usage file. A period with more closed records (or a
	// supplement with more adjustments) is split into parts of at most this many. 100 000 rows make a workbook
	// of about 8 MB, well within Connect's upload handling and far from the xlsx sheet limit (1 048 575 rows).
	DefaultMaxRecordsPerFile = 100_000
	// MaxRecordsPerFileLimit is the most rows a records sheet can hold (xlsx rows minus the header).
	MaxRecordsPerFileLimit = 1_048_575
	DefaultConcurrency     = 8
	DefaultSupplementDelay = 30 * time.Second
	DefaultLeaseTTL        = 2 * time.Minute
	DefaultScanInterval    = 30 * time.Second
	DefaultFollowMax       = 5 * time.Minute
	DefaultRetryMax        = 5 * time.Minute
	DefaultMaxExcluded     = 1000
	// DefaultOrphanInterval is how often Connect's open usagepipe files are checked against the ledger.
	DefaultOrphanInterval = 10 * time.Minute
	// DefaultPlanGrace is how long planning retries a period whose records are incomplete or whose product
	// the catalog lacks, from the stream time of its last mark (a supplement: of its adjustment message),
	// before the revision is parked as failed.
	DefaultPlanGrace = 10 * time.Minute
	// DefaultAckWait is the AckWait of the mark and adjustment consumers: how long a message delivered to a
	// submitter that died waits before it is delivered again.
	DefaultAckWait = 30 * time.Second
	// DefaultRetentionInterval is how often the command's submitter purges what USAGE_AGG and USAGE_DLQ no
	// longer need (internal/retention); DefaultRetentionMinAge is what it never touches: messages stored
	// within it (reconcile's and explain's window).
	DefaultRetentionInterval = time.Hour
	DefaultRetentionMinAge   = 90 * 24 * time.Hour
)

// Options configures a Submitter. Catalog, ConnectURL and ConnectAPIKey are required; other zero fields
// take the defaults above (SupplementDelay excepted: zero plans supplements at once).
type Options struct {
	Catalog       *events.Catalog
	ConnectURL    string // Connect API base, e.g. https://api.connect.cloudblue.com/public/v1
	ConnectAPIKey string // never logged
	HTTPClient    *http.Client
	Retry         usageapi.RetryPolicy // per-call retries; zero: usageapi.DefaultRetryPolicy (waits end within 20s)

	MemberID          string        // this submitter's name in entry leases; default hostname-pid
	MaxRecordsPerFile int           // records per usage file
	Concurrency       int           // entries driven at once
	SupplementDelay   time.Duration // adjustments wait this long (from their commit) to be batched into one supplement
	LeaseTTL          time.Duration // an entry claimed by a member stays its own this long after its last write
	ScanInterval      time.Duration // how often the ledger is scanned for entries this process does not drive yet
	FollowMaxInterval time.Duration // longest wait between two reads of a file pending at the provider
	RetryMaxInterval  time.Duration // longest wait before retrying a failed step
	MaxExcluded       int           // most records one file may dead-letter; more parks the file as failed
	AckWait           time.Duration // AckWait of the mark and adjustment consumers
	PlanGrace         time.Duration // how long a plan that may yet succeed is retried before it is parked
	OrphanInterval    time.Duration // how often Connect's open usagepipe files are checked for orphans
	RetentionInterval time.Duration // how often retention runs (retain.go); zero: never
	RetentionMinAge   time.Duration // retention never removes what was stored within this
	OpsAddr           string        // where its /metrics and /healthz listen, shown in its status heartbeat
	// Now is the submitter's clock (nil: time.Now): the planner's grace and the driver's leases, due times,
	// backoff and ledger history, and retention's minimum age.
	Now func() time.Time

	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// DefaultMemberID is hostname-pid.
func DefaultMemberID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "submitter"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

func (o Options) withDefaults() Options {
	config.SetDefault(&o.MemberID, DefaultMemberID())
	config.SetDefault(&o.MaxRecordsPerFile, DefaultMaxRecordsPerFile)
	config.SetDefault(&o.Concurrency, DefaultConcurrency)
	config.SetDefault(&o.LeaseTTL, DefaultLeaseTTL)
	config.SetDefault(&o.ScanInterval, DefaultScanInterval)
	config.SetDefault(&o.FollowMaxInterval, DefaultFollowMax)
	config.SetDefault(&o.RetryMaxInterval, DefaultRetryMax)
	config.SetDefault(&o.MaxExcluded, DefaultMaxExcluded)
	config.SetDefault(&o.AckWait, DefaultAckWait)
	config.SetDefault(&o.PlanGrace, DefaultPlanGrace)
	config.SetDefault(&o.OrphanInterval, DefaultOrphanInterval)
	config.SetDefault(&o.RetentionMinAge, DefaultRetentionMinAge)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Check reports every problem of o (after defaults) at once.
func (o Options) Check() error {
	var errs []error
	if o.Catalog == nil {
		errs = append(errs, errors.New("no catalog"))
	}
	if o.ConnectURL == "" {
		errs = append(errs, errors.New("no Connect URL"))
	}
	if o.ConnectAPIKey == "" {
		errs = append(errs, errors.New("no Connect API key"))
	}
	return errors.Join(append(errs, o.checkLimits())...)
}

// checkLimits reports every out-of-range setting at once.
func (o Options) checkLimits() error {
	var errs []error
	if o.MaxRecordsPerFile < 1 || o.MaxRecordsPerFile > MaxRecordsPerFileLimit {
		errs = append(errs, fmt.Errorf("max records per file %d: want 1..%d", o.MaxRecordsPerFile, MaxRecordsPerFileLimit))
	}
	if o.Concurrency < 1 || o.Concurrency > 256 {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1..256", o.Concurrency))
	}
	if o.SupplementDelay < 0 {
		errs = append(errs, fmt.Errorf("supplement delay %v: must not be negative", o.SupplementDelay))
	}
	if o.LeaseTTL < 2*time.Second {
		errs = append(errs, fmt.Errorf("lease ttl %v: want at least 2s", o.LeaseTTL))
	}
	if o.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ack wait %v: want at least 1s", o.AckWait))
	}
	if o.OrphanInterval < time.Second {
		errs = append(errs, fmt.Errorf("orphan interval %v: want at least 1s", o.OrphanInterval))
	}
	if o.RetentionInterval < 0 || o.RetentionMinAge < 0 {
		errs = append(errs, fmt.Errorf("retention interval %v, min age %v: must not be negative", o.RetentionInterval, o.RetentionMinAge))
	}
	if o.PlanGrace < 0 {
		errs = append(errs, fmt.Errorf("plan grace %v: must not be negative", o.PlanGrace))
	}
	// A dead letter republished when an interrupted exclusion is resumed (ledger.Exclusion) must be dropped as a
	// duplicate: the resumption must come well within USAGE_DLQ's duplicate window.
	if resume := o.LeaseTTL + o.stepTimeout() + o.ScanInterval; resume > bus.DLQDedupWindow/2 {
		errs = append(errs, fmt.Errorf("lease ttl %v + step timeout %v + scan interval %v = %v: want at most %v, half of USAGE_DLQ's duplicate window, so that a dead letter republished by another submitter after a crash is dropped as a duplicate",
			o.LeaseTTL, o.stepTimeout(), o.ScanInterval, resume, bus.DLQDedupWindow/2))
	}
	if o.MaxExcluded < 0 {
		errs = append(errs, fmt.Errorf("max excluded %d: must not be negative", o.MaxExcluded))
	}
	// The find-or-create after a create of unknown outcome waits out the list lag twice (drive_lookup.go): it must
	// fit in a step, or that step would always time out and never create.
	if lag := o.listLag(); 4*lag > o.stepTimeout() {
		errs = append(errs, fmt.Errorf("connect list lag %v: want at most a quarter of the step timeout %v (half the lease ttl)", lag, o.stepTimeout()))
	}
	return errors.Join(errs...)
}

// listLag is the client's RetryPolicy.ListLag, its default when unset.
func (o Options) listLag() time.Duration {
	if o.Retry.ListLag > 0 {
		return o.Retry.ListLag
	}
	return usageapi.DefaultRetryPolicy.ListLag
}

// stepTimeout bounds one step, so that it ends well within the lease it runs under.
func (o Options) stepTimeout() time.Duration { return o.LeaseTTL / 2 }
