package lineage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Bus models the reads of internal/bus.Conn that lineage makes (it writes nothing).
type Bus interface {
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
	GetMsg(ctx context.Context, stream string, seq uint64) (bus.Msg, error)
	StreamState(ctx context.Context, stream string) (bus.StreamState, error)
	GetObject(ctx context.Context, bucket, name string) ([]byte, error)
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
	KV(ctx context.Context, bucket string) (*bus.KV, error)
}

// Connect models the reads of the Connect Usage API lineage makes (pkg/usageapi.Client).
type Connect interface {
	GetFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
	GetRecord(ctx context.Context, id string) (*usageapi.Record, error)
	Records(terms ...usageapi.Term) usageapi.List[usageapi.Record]
}

// DefaultCopiesWindow is how long after an event's first copy later copies are looked for, and
// DefaultCopiesBudget in how many messages of the partition at most.
const (
	DefaultCopiesWindow = time.Hour
	DefaultCopiesBudget = 2000
)

// ClockMargin is added to events.FutureSkew when bounding where a copy can be: the clocks of ingest and the
// NATS server may disagree by that much.
const ClockMargin = 5 * time.Second

// Options configures a Service.
type Options struct {
	// Catalog and Partitions are used while no partition has committed a fold configuration (nothing folded
	// yet); afterwards the committed configuration's catalog, P and dedup horizon are used.
	Catalog    *events.Catalog
	Partitions int
	// Connect, when set, is asked for files and records; without it answers stop at the ledger.
	Connect Connect
	// CopiesWindow and CopiesBudget bound the search for later copies after the first, in arrival time
	// (DefaultCopiesWindow; negative: to the end of the event's window) and in messages of the partition
	// (DefaultCopiesBudget; negative: none).
	CopiesWindow time.Duration
	CopiesBudget int
}

// Service answers lineage questions. Build it with New.
type Service struct {
	bus     Bus
	ledger  *ledger.Store
	connect Connect
	opts    Options

	mu      sync.Mutex
	configs map[string]aggregator.FoldConfig // by digest
}

// New returns a service reading through b (the ledger bucket must exist: Provision has run).
func New(ctx context.Context, b Bus, o Options) (*Service, error) {
	l, err := ledger.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	if o.CopiesWindow == 0 {
		o.CopiesWindow = DefaultCopiesWindow
	}
	if o.CopiesBudget == 0 {
		o.CopiesBudget = DefaultCopiesBudget
	}
	return &Service{bus: b, ledger: l, connect: o.Connect, opts: o, configs: map[string]aggregator.FoldConfig{}}, nil
}

// ErrBadQuery: the question is incomplete or malformed (the message says what is missing).
var ErrBadQuery = errors.New("lineage: bad query")

// ErrNotFound: what the question names does not exist (a record id, a file id); the answer says where it looked.
var ErrNotFound = errors.New("lineage: not found")

// fold is the fold configuration in force: the one partition p last committed under, else the options'.
func (s *Service) fold(ctx context.Context, p int) (aggregator.FoldConfig, error) {
	c, ok, err := aggregator.ReadCommitted(ctx, s.bus, p)
	if err != nil {
		return aggregator.FoldConfig{}, fmt.Errorf("lineage: %w", err)
	}
	if !ok || c.Config == "" {
		return s.fallbackConfig()
	}
	s.mu.Lock()
	fc, known := s.configs[c.Config]
	s.mu.Unlock()
	if known {
		return fc, nil
	}
	if fc, err = aggregator.ReadFoldConfig(ctx, s.bus, c.Config); err != nil {
		return aggregator.FoldConfig{}, fmt.Errorf("lineage: %w", err)
	}
	s.mu.Lock()
	s.configs[c.Config] = fc
	s.mu.Unlock()
	return fc, nil
}

func (s *Service) fallbackConfig() (aggregator.FoldConfig, error) {
	if s.opts.Catalog == nil || s.opts.Partitions < 1 {
		return aggregator.FoldConfig{}, errors.New("lineage: nothing is committed yet and no catalog and partition count were given")
	}
	return aggregator.FoldConfig{Catalog: s.opts.Catalog, Partitions: s.opts.Partitions,
		DedupHorizon: aggregator.DefaultDedupHorizon}, nil
}

// partitions is P: the committed configuration's, else the options'.
func (s *Service) partitions(ctx context.Context) (aggregator.FoldConfig, error) {
	return s.fold(ctx, 0)
}
