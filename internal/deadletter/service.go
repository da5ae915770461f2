package deadletter

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Streams models what the service asks of JetStream (internal/bus.Conn): reads of the streams holding
// letters and partitions, a message by sequence, and the publish of a replay's copy.
type Streams interface {
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	GetMsg(ctx context.Context, stream string, seq uint64) (bus.Msg, error)
	LastSeq(ctx context.Context, stream string) (uint64, error)
	Publish(ctx context.Context, m bus.Msg) (bus.PubAck, error)
	StreamCreated(ctx context.Context, stream string) (time.Time, error)
	RecordedPartitions(ctx context.Context) (int, error)
}

var _ Streams = (*bus.Conn)(nil)

// Service lists, shows and replays dead letters. Build it with New.
type Service struct {
	streams Streams
	ledger  *ledger.Store
	catalog *events.Catalog
	now     func() time.Time
}

// New returns a service reading streams and the ledger, judging events and records with catalog (the one
// the services run).
func New(streams Streams, l *ledger.Store, catalog *events.Catalog) (*Service, error) {
	if streams == nil || l == nil || catalog == nil {
		return nil, errors.New("deadletter: New needs the streams, the ledger and the catalog")
	}
	return &Service{streams: streams, ledger: l, catalog: catalog, now: time.Now}, nil
}
