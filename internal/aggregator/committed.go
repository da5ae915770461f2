package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Reads of what a partition has committed, for operator commands outside the workers.

// Committed is where a partition's committed output stands: its last progress record.
type Committed struct {
	Partition   int       `json:"partition"`
	Base        uint64    `json:"base"`         // the output of source messages ≤ Base is committed
	ProgressSeq uint64    `json:"progress_seq"` // the progress record's sequence in USAGE_AGG
	At          time.Time `json:"at"`           // its stream time: when it was committed
	Member      string    `json:"member,omitempty"`
	Config      string    `json:"config,omitempty"` // digest of the fold configuration it was folded under
}

// CommitReader models the reads of internal/bus.Conn that ReadCommitted and ReadFoldConfig make.
type CommitReader interface {
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
	GetObject(ctx context.Context, bucket, name string) ([]byte, error)
}

// ReadCommitted reads partition p's last progress record; ok is false when nothing is committed yet.
func ReadCommitted(ctx context.Context, r CommitReader, p int) (c Committed, ok bool, err error) {
	m, err := r.LastMsg(ctx, bus.StreamAgg, subjects.Progress(p))
	if errors.Is(err, bus.ErrNotFound) {
		return Committed{Partition: p}, false, nil
	}
	if err != nil {
		return Committed{}, false, fmt.Errorf("aggregator: progress of partition %d: %w", p, err)
	}
	prog, err := decodeProgress(m.Data)
	if err != nil {
		return Committed{}, false, fmt.Errorf("aggregator: progress of partition %d at seq %d: %w", p, m.Seq, err)
	}
	return Committed{Partition: p, Base: prog.base(), ProgressSeq: m.Seq, At: m.Time, Member: prog.Member,
		Config: prog.Config}, true, nil
}

// FoldConfig is a fold configuration as stored: what besides the stream the fold's output depends on.
type FoldConfig struct {
	Digest       string
	Catalog      *events.Catalog
	Partitions   int
	DedupHorizon time.Duration
	MarkFrom     time.Time
}

// ReadFoldConfig reads the fold configuration stored under digest (checked against it).
func ReadFoldConfig(ctx context.Context, r CommitReader, digest string) (FoldConfig, error) {
	data, err := r.GetObject(ctx, bus.BucketSnapshots, foldConfigName(digest))
	if err != nil {
		return FoldConfig{}, fmt.Errorf("aggregator: fold configuration %s: %w", digest, err)
	}
	fc, err := decodeFoldConfig(digest, data)
	if err != nil {
		return FoldConfig{}, fmt.Errorf("aggregator: %w", err)
	}
	cfg := fc.forPartition(0)
	return FoldConfig{Digest: digest, Catalog: cfg.Catalog, Partitions: cfg.Partitions, DedupHorizon: cfg.DedupHorizon,
		MarkFrom: cfg.MarkFrom}, nil
}

// Owner is who holds a partition's lease (usagepipe_agg_leases lease.<p>), as read now.
type Owner struct {
	Partition int       `json:"partition"`
	Member    string    `json:"member,omitempty"` // "" when no lease is held (never taken, released or deleted)
	Expires   time.Time `json:"expires,omitzero"` // the expiry its holder last wrote (its clock)
	Live      bool      `json:"live"`             // held and unexpired at the reader's now
}

// ReadOwners reads the leases of partitions 0..partitions-1.
func ReadOwners(ctx context.Context, b interface {
	KV(ctx context.Context, bucket string) (*bus.KV, error)
}, partitions int, now time.Time) ([]Owner, error) {
	kv, err := b.KV(ctx, bus.BucketLeases)
	if err != nil {
		return nil, fmt.Errorf("aggregator: leases: %w", err)
	}
	out := make([]Owner, partitions)
	for p := range out {
		out[p] = Owner{Partition: p}
		e, err := kv.Get(ctx, leaseKey(p))
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("aggregator: lease of partition %d: %w", p, err)
		}
		if c, err := decodeClaim(e.Value); err == nil && c.Owner != "" {
			out[p].Member, out[p].Expires, out[p].Live = c.Owner, time.UnixMilli(c.Expires).UTC(), c.live(now)
		}
	}
	return out, nil
}

// CurrentFoldConfig is the fold configuration partition 0 last committed under; ok is false when nothing is
// committed yet (or was committed before configurations were recorded).
func CurrentFoldConfig(ctx context.Context, r CommitReader) (fc FoldConfig, ok bool, err error) {
	c, ok, err := ReadCommitted(ctx, r, 0)
	if err != nil || !ok || c.Config == "" {
		return FoldConfig{}, false, err
	}
	fc, err = ReadFoldConfig(ctx, r, c.Config)
	return fc, err == nil, err
}
