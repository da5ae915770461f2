package submitter

import (
	"context"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/trace"
)

// aggStream models the planner's use of USAGE_AGG (internal/bus.Conn): the durable consumers of marks and
// adjustments, reads of a period's messages, and the newest message of a subject.
type aggStream interface {
	Consume(ctx context.Context, stream string, o bus.ConsumeOptions, handler func(context.Context, *bus.Delivery)) error
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
}

// entryScheduler models the driver as the planner sees it: something that takes up an entry at a time.
type entryScheduler interface {
	revive(key string, at time.Time)
}

// planner turns what the aggregator commits into ledger entries: the closed records of a period once every
// partition has marked it (plan_closed.go), and the supplements of its adjustments (plan_supplements.go),
// both written by plan_files.go; a revision that cannot be planned is parked (plan_park.go) and planned
// again once an operator resolves it (plan_replan.go). It talks to USAGE_AGG and the ledger, never to
// Connect, and hands every new entry to the driver.
type planner struct {
	agg    aggStream
	ledger *ledger.Store // set by Submitter.useLedger
	drive  entryScheduler
	cache  *planCache // the records of the newest parts planned, for their first upload
	nudged *nudges    // periods whose files a driver handed over (plan_nudge.go)

	catalog         *events.Catalog
	limit           int           // Options.MaxRecordsPerFile
	grace           time.Duration // Options.PlanGrace
	supplementDelay time.Duration // Options.SupplementDelay
	ackWait         time.Duration // Options.AckWait

	now    func() time.Time
	log    *slog.Logger
	tracer trace.Tracer
	ins    *instruments
}

func newPlanner(o Options, agg aggStream, drive entryScheduler, cache *planCache, ins *instruments, tracer trace.Tracer) *planner {
	return &planner{agg: agg, drive: drive, cache: cache, nudged: newNudges(), catalog: o.Catalog, limit: o.MaxRecordsPerFile,
		grace: o.PlanGrace, supplementDelay: o.SupplementDelay, ackWait: o.AckWait,
		now: o.Now, log: o.Logger, tracer: tracer, ins: ins}
}
