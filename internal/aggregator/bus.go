package aggregator

import (
	"context"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// Bus models the operations of internal/bus.Conn that a worker and its runners use.
type Bus interface {
	KV(ctx context.Context, bucket string) (*bus.KV, error)
	StreamCreated(ctx context.Context, stream string) (time.Time, error)
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
	GetMsg(ctx context.Context, stream string, seq uint64) (bus.Msg, error)
	CommitAtomic(ctx context.Context, msgs []bus.Msg, fenceSeq uint64) (uint64, error)
	Publish(ctx context.Context, m bus.Msg) (bus.PubAck, error)
	PutObject(ctx context.Context, bucket, name string, data []byte) error
	GetObject(ctx context.Context, bucket, name string) ([]byte, error)
	DeleteObject(ctx context.Context, bucket, name string) error
	ListObjects(ctx context.Context, bucket, prefix string) ([]string, error)
	Serve(subject string, fn func(data []byte) []byte) (stop func(), err error)
}

var _ Bus = (*bus.Conn)(nil)
