package svcstatus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/buildinfo"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Kinds of services.
const (
	KindIngest     = "ingest"
	KindAggregator = "aggregator"
	KindSubmitter  = "submitter"
)

// KeyPrefix starts every heartbeat key.
const KeyPrefix = "svc."

// Key is the key of a service's heartbeat: svc.<kind>.<member>, the member as an events.SubjectToken.
func Key(kind, member string) string { return KeyPrefix + kind + "." + events.SubjectToken(member) }

// Interval is how often a heartbeat is written (well within bus.StatusTTL).
const Interval = 5 * time.Second

// Heartbeat is what a service process says of itself.
type Heartbeat struct {
	Kind       string      `json:"kind"`
	Member     string      `json:"member"`
	Version    string      `json:"version"`
	Started    time.Time   `json:"started"`
	At         time.Time   `json:"at"` // when it was written
	OpsAddr    string      `json:"ops_addr,omitempty"`
	Ingest     *Ingest     `json:"ingest,omitempty"`
	Aggregator *Aggregator `json:"aggregator,omitempty"`
	Submitter  *Submitter  `json:"submitter,omitempty"`
}

// Ingest is an ingest process's event counts since it started, and their rates over the last minute.
type Ingest struct {
	Accepted    uint64  `json:"accepted"`
	Duplicates  uint64  `json:"duplicates"`
	Rejected    uint64  `json:"rejected"`
	AcceptedPS  float64 `json:"accepted_per_s"`
	DuplicatePS float64 `json:"duplicates_per_s"`
	RejectedPS  float64 `json:"rejected_per_s"`
}

// Aggregator is an aggregator worker's partitions.
type Aggregator struct {
	Partitions []PartitionLag `json:"partitions"` // the leases it holds, by partition
}

// PartitionLag is one owned partition as its runner last sampled it (every few seconds).
type PartitionLag struct {
	Partition  int       `json:"partition"`
	Running    bool      `json:"running"` // a runner works under the lease (false: stopped, restarting)
	Applied    uint64    `json:"applied"` // stream sequence of the last message applied
	AppliedAt  time.Time `json:"applied_at,omitzero"`
	End        uint64    `json:"end"` // the partition's newest message when sampled
	EndAt      time.Time `json:"end_at,omitzero"`
	LagSeconds float64   `json:"lag_seconds"` // stream time from the last applied message to the newest
	CaughtUp   bool      `json:"caught_up"`   // the backlog the runner started with is applied
	LastError  string    `json:"last_error,omitempty"`
}

// Submitter is a submitter's view of the files it has planned or driven since it started, by ledger state.
type Submitter struct {
	Files map[string]int `json:"files"`
}

// KV models the bus KV bucket of heartbeats (internal/bus.KV).
type KV interface {
	Put(ctx context.Context, key string, val []byte) (uint64, error)
	Delete(ctx context.Context, key string, lastRev uint64) error
	Get(ctx context.Context, key string) (bus.Entry, error)
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// Opener models how the bucket is opened (internal/bus.Conn).
type Opener interface {
	KV(ctx context.Context, bucket string) (*bus.KV, error)
}

// Run writes hb, completed by fill (which sets the service's own part), every Interval until ctx ends, then
// deletes it. A failed write is logged and tried again at the next interval.
func Run(ctx context.Context, conn Opener, hb Heartbeat, fill func(*Heartbeat), log *slog.Logger) {
	hb.Version, hb.Started = buildinfo.Read().ServiceVersion(), time.Now().UTC()
	key := Key(hb.Kind, hb.Member)
	t := time.NewTicker(Interval)
	defer t.Stop()
	var kv KV
	for {
		if kv == nil {
			if b, err := conn.KV(ctx, bus.BucketStatus); err == nil {
				kv = b
			} else if ctx.Err() == nil {
				log.WarnContext(ctx, "status heartbeat: bucket not available", "err", err)
			}
		}
		if kv != nil {
			write(ctx, kv, key, hb, fill, log)
		}
		select {
		case <-ctx.Done():
			remove(kv, key)
			return
		case <-t.C:
		}
	}
}

func write(ctx context.Context, kv KV, key string, hb Heartbeat, fill func(*Heartbeat), log *slog.Logger) {
	hb.At = time.Now().UTC()
	if fill != nil {
		fill(&hb)
	}
	b, err := json.Marshal(hb)
	if err == nil {
		_, err = kv.Put(ctx, key, b)
	}
	if err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "status heartbeat not written", "key", key, "err", err)
	}
}

// remove deletes the heartbeat of a process stopping cleanly, so that status shows it gone at once.
func remove(kv KV, key string) {
	if kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = kv.Delete(ctx, key, 0)
}

// Read returns every live heartbeat, by key order.
func Read(ctx context.Context, conn Opener) ([]Heartbeat, error) {
	kv, err := conn.KV(ctx, bus.BucketStatus)
	if err != nil {
		return nil, fmt.Errorf("svcstatus: %w", err)
	}
	keys, err := kv.Keys(ctx, KeyPrefix)
	if err != nil {
		return nil, fmt.Errorf("svcstatus: %w", err)
	}
	out := make([]Heartbeat, 0, len(keys))
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("svcstatus: %w", err)
		}
		var hb Heartbeat
		if err := json.Unmarshal(e.Value, &hb); err != nil {
			return nil, fmt.Errorf("svcstatus: heartbeat %s: %w", k, err)
		}
		out = append(out, hb)
	}
	return out, nil
}
