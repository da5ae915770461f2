package submitter

import (
	"context"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// Bus models the operations of internal/bus.Conn the submitter uses.
type Bus interface {
	Consume(ctx context.Context, stream string, o bus.ConsumeOptions, handler func(context.Context, *bus.Delivery)) error
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
	KV(ctx context.Context, bucket string) (*bus.KV, error)
	PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error)
}

var _ Bus = (*bus.Conn)(nil)
