package submitter

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"go.opentelemetry.io/otel/trace"
)

// connectFiles models the Connect calls the driver makes on a usage file (pkg/usageapi.Client).
type connectFiles interface {
	FindOrCreateFile(ctx context.Context, req usageapi.CreateFileRequest, opts ...usageapi.LookupOption) (*usageapi.FileDetail, bool, error)
	FindFiles(ctx context.Context, externalID string, opts ...usageapi.LookupOption) ([]usageapi.File, error)
	GetFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
	UploadFile(ctx context.Context, id, filename string, workbook io.Reader) (*usageapi.FileDetail, error)
	SubmitFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
	Download(ctx context.Context, link string) ([]byte, error)
}

// recordReader models reading USAGE_AGG back (internal/bus.Conn.Read): a part's records, a period's marks.
type recordReader interface {
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
}

// deadLetterPublisher models publishing dead letters to USAGE_DLQ (internal/bus.Conn.PublishBatch).
type deadLetterPublisher interface {
	PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error)
}

// driver runs ledger entries through Connect. Each known non-terminal entry is a job, queued by when it is
// next due, and at most Concurrency jobs run at once, each by one worker goroutine (drive_jobs.go). A job
// drives its entry step by step (drive_entry.go), each step one Connect operation chosen by the entry's
// state (drive_steps.go) and one CAS write of the outcome. A job never runs twice at the same time in a
// process; across processes the entry's lease and CAS writes keep it so.
type driver struct {
	ledger  *ledger.Store // set by Submitter.useLedger
	connect connectFiles
	records recordReader
	dlq     deadLetterPublisher
	cache   *planCache       // records the planner read for a part's first upload
	nudger  supplementNudger // the planner (set by New)

	member      string        // Options.MemberID, the owner in entry leases
	concurrency int           // Options.Concurrency
	leaseTTL    time.Duration // Options.LeaseTTL
	stepTimeout time.Duration // half the lease: a step ends well within the lease it runs under
	followMax   time.Duration // Options.FollowMaxInterval
	retryMax    time.Duration // Options.RetryMaxInterval
	maxExcluded int           // Options.MaxExcluded

	now    func() time.Time
	log    *slog.Logger
	tracer trace.Tracer
	ins    *instruments

	mu       sync.Mutex
	jobs     map[string]*job // non-terminal entries known
	terminal map[string]bool // entries known to be done for good: accepted, closed, empty, abandoned (scans skip them)
	parked   map[string]bool // entries known parked (rejected, failed): scans read them again, as an operator may send them on
	queue    dueQueue
	kick     chan struct{}
}

func newDriver(o Options, records recordReader, dlq deadLetterPublisher, connect connectFiles, cache *planCache, ins *instruments, tracer trace.Tracer) *driver {
	return &driver{connect: connect, records: records, dlq: dlq, cache: cache,
		member: o.MemberID, concurrency: o.Concurrency, leaseTTL: o.LeaseTTL, stepTimeout: o.stepTimeout(),
		followMax: o.FollowMaxInterval, retryMax: o.RetryMaxInterval, maxExcluded: o.MaxExcluded,
		now: o.Now, log: o.Logger, tracer: tracer, ins: ins,
		jobs: map[string]*job{}, terminal: map[string]bool{}, parked: map[string]bool{}, kick: make(chan struct{}, 1)}
}
