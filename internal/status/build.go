package status

import (
	"context"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Bus models the reads of internal/bus.Conn that Build makes (it writes nothing).
type Bus interface {
	aggregator.CommitReader
	KV(ctx context.Context, bucket string) (*bus.KV, error)
	GetMsg(ctx context.Context, stream string, seq uint64) (bus.Msg, error)
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	SubjectCounts(ctx context.Context, stream, filter string) (map[string]uint64, error)
	CountAfter(ctx context.Context, stream, filter string, afterSeq uint64) (uint64, error)
	DurableConsumers(ctx context.Context, stream string) ([]bus.ConsumerState, error)
	StreamState(ctx context.Context, stream string) (bus.StreamState, error)
}

// Defaults of Options.
const (
	DefaultPeriodsBack      = 3
	DefaultOverdueAfter     = 15 * time.Minute
	DefaultMaxLag           = 2 * time.Minute
	DefaultDeadLetterWindow = 24 * time.Hour
)

// Options configures Build.
type Options struct {
	Catalog          *events.Catalog // the products and their periods (nil: the committed fold configuration's)
	Partitions       int             // P (0: the committed fold configuration's)
	PeriodsBack      int             // periods shown per product and contract before the current one
	OverdueAfter     time.Duration   // a period not reported this long after its close is overdue
	MaxLag           time.Duration   // a partition committed further behind its newest message is stuck
	DeadLetterWindow time.Duration   // dead letters stored within it are problems
	Now              func() time.Time
}

func (o Options) withDefaults() Options {
	if o.PeriodsBack <= 0 {
		o.PeriodsBack = DefaultPeriodsBack
	}
	if o.OverdueAfter <= 0 {
		o.OverdueAfter = DefaultOverdueAfter
	}
	if o.MaxLag <= 0 {
		o.MaxLag = DefaultMaxLag
	}
	if o.DeadLetterWindow <= 0 {
		o.DeadLetterWindow = DefaultDeadLetterWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Build reads the system's state and derives its problems.
func Build(ctx context.Context, b Bus, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := resolveConfig(ctx, b, &o); err != nil {
		return nil, err
	}
	r := &Report{At: o.Now().UTC(), Partitions: o.Partitions}
	l, err := ledger.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	entries, err := l.Entries(ctx, ledger.FilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("status: ledger: %w", err)
	}
	steps := []func() error{
		func() error { return r.readPeriods(ctx, b, o, entries) },
		func() error { return r.readParked(ctx, l, entries) },
		func() error { return r.readDeadLetters(ctx, b, l, o) },
		func() error { return r.readPartitions(ctx, b, o) },
		func() error { return r.readServices(ctx, b) },
		func() error { return r.readConsumers(ctx, b) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	r.judge(o)
	return r, nil
}

// resolveConfig fills the catalog and P from the committed fold configuration when they are not given.
func resolveConfig(ctx context.Context, b Bus, o *Options) error {
	if o.Catalog != nil && o.Partitions > 0 {
		return nil
	}
	c, ok, err := aggregator.ReadCommitted(ctx, b, 0)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if !ok || c.Config == "" {
		return fmt.Errorf("status: nothing committed yet: give the catalog and the partition count")
	}
	fc, err := aggregator.ReadFoldConfig(ctx, b, c.Config)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if o.Catalog == nil {
		o.Catalog = fc.Catalog
	}
	if o.Partitions <= 0 {
		o.Partitions = fc.Partitions
	}
	return nil
}

// readServices reads the heartbeats.
func (r *Report) readServices(ctx context.Context, b Bus) error {
	hbs, err := svcstatus.Read(ctx, b)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	r.Services, r.Aggregators, r.Ingest = []Service{}, []Aggregator{}, []svcstatus.Heartbeat{}
	for _, hb := range hbs {
		r.Services = append(r.Services, Service{Kind: hb.Kind, Member: hb.Member, Version: hb.Version, Started: hb.Started,
			Seen: hb.At, OpsAddr: hb.OpsAddr})
		switch {
		case hb.Aggregator != nil:
			a := Aggregator{Member: hb.Member, Partitions: hb.Aggregator.Partitions}
			for _, p := range a.Partitions {
				a.MaxLag = max(a.MaxLag, p.LagSeconds)
			}
			r.Aggregators = append(r.Aggregators, a)
		case hb.Ingest != nil:
			r.Ingest = append(r.Ingest, hb)
		}
	}
	return nil
}

// readConsumers reads the durable consumers of USAGE_AGG and USAGE_EVENTS.
func (r *Report) readConsumers(ctx context.Context, b Bus) error {
	r.Consumers = []Consumer{}
	for _, stream := range []string{bus.StreamAgg, bus.StreamEvents} {
		cs, err := b.DurableConsumers(ctx, stream)
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		for _, c := range cs {
			r.Consumers = append(r.Consumers, Consumer{Stream: stream, Name: c.Name, Pending: c.Pending, AckPending: c.AckPending})
		}
	}
	return nil
}

// Reader builds reports over one connection with fixed options (the operator API's and the console's view).
type Reader struct {
	Bus     Bus
	Options Options
}

// Status builds a report now.
func (r Reader) Status(ctx context.Context) (*Report, error) { return Build(ctx, r.Bus, r.Options) }
