package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Names of the streams, KV buckets and object store (docs/DESIGN.md).
const (
	StreamEvents    = "USAGE_EVENTS"
	StreamAgg       = "USAGE_AGG"
	StreamDLQ       = "USAGE_DLQ"
	BucketLeases    = "usagepipe_agg_leases"
	BucketLedger    = "usagepipe_ledger"
	BucketSnapshots = "usagepipe_agg_snapshots"
	BucketStatus    = "usagepipe_status"
)

// StatusTTL is how long a value of BucketStatus lives after its last write: services rewrite theirs (their
// heartbeat) well within it, so a service missing from the bucket is down.
const StatusTTL = 30 * time.Second

// Subject prefixes of the streams.
const (
	SubjectEvents = subjects.EventsRoot
	SubjectAgg    = subjects.AggRoot
	SubjectDLQ    = subjects.DLQRoot
)

// Topology sizes the provisioned resources. Zero fields take the defaults.
type Topology struct {
	Partitions   int           // event partitions (subjects usage.events.<p>); default 16
	Replicas     int           // stream and bucket replicas; default 1 (3 in production clusters)
	EventsMaxAge time.Duration // USAGE_EVENTS retention by arrival time; default 7 days; never shrunk by Provision
	DedupWindow  time.Duration // USAGE_EVENTS Nats-Msg-Id duplicate window; default 10 minutes; never shrunk
	// DLQMaxAge is USAGE_DLQ's age limit: 0 (the default) keeps dead letters until retention purges resolved
	// ones (an open dead letter is usage not billed yet); never shrunk. A limit loses open dead letters.
	DLQMaxAge time.Duration
}

// DLQDedupWindow is USAGE_DLQ's duplicate window: longer than the submitter's lease TTL (2 minutes by default),
// after which another submitter may republish a dead letter under the same Nats-Msg-Id.
const DLQDedupWindow = 20 * time.Minute

// WithDefaults returns t with zero fields set to their defaults.
func (t Topology) WithDefaults() Topology {
	if t.Partitions <= 0 {
		t.Partitions = 16
	}
	if t.Replicas <= 0 {
		t.Replicas = 1
	}
	if t.EventsMaxAge <= 0 {
		t.EventsMaxAge = 7 * 24 * time.Hour
	}
	if t.DedupWindow <= 0 {
		t.DedupWindow = 10 * time.Minute
	}
	t.DLQMaxAge = max(t.DLQMaxAge, 0)
	return t
}

// streamConfigs are the three streams. ConsumerLimits stays empty: an InactiveThreshold there would be
// inherited by durable consumers and delete them when idle.
func (t Topology) streamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{{
		Name:        StreamEvents,
		Description: "usage event packets and aggregator ticks, partitioned by subscription",
		Subjects:    []string{SubjectEvents + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.EventsMaxAge,
		Duplicates:  t.DedupWindow,
		Metadata:    map[string]string{MetaPartitions: strconv.Itoa(t.Partitions)},
	}, {
		Name:               StreamAgg,
		Description:        "aggregator output: progress, closed records, adjustments, marks (atomic fenced batches)",
		Subjects:           []string{SubjectAgg + ".>"},
		Retention:          jetstream.LimitsPolicy,
		Storage:            jetstream.FileStorage,
		Replicas:           t.Replicas,
		AllowAtomicPublish: true,
	}, {
		Name:        StreamDLQ,
		Description: "dead letters: original message plus reason code",
		Subjects:    []string{SubjectDLQ + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.DLQMaxAge,
		Duplicates:  DLQDedupWindow,
	}}
}

// Provision creates or updates every stream, KV bucket and object store. It is idempotent: run it at every
// start of every service. It never shrinks a stream's MaxAge or duplicate window (an operator's longer
// setting is kept, and logged), records t.Partitions in USAGE_EVENTS's metadata when it creates the stream (or
// finds it without one), and fails with ErrPartitionMismatch when the stream records another count. Ready
// checks the same count afterwards.
func (c *Conn) Provision(ctx context.Context, t Topology) error {
	t = t.WithDefaults()
	c.partitions.Store(int64(t.Partitions))
	for _, cfg := range t.streamConfigs() {
		err := c.provisionStep(ctx, "stream "+cfg.Name, func(ctx context.Context) error { return c.provisionStream(ctx, cfg) })
		if err != nil {
			return fmt.Errorf("bus: provision stream %s: %w", cfg.Name, err)
		}
	}
	for _, cfg := range t.kvConfigs() {
		err := c.provisionStep(ctx, "kv "+cfg.Bucket, func(ctx context.Context) error {
			_, err := c.js.CreateOrUpdateKeyValue(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("bus: provision kv %s: %w", cfg.Bucket, err)
		}
	}
	err := c.provisionStep(ctx, "object store "+BucketSnapshots, func(ctx context.Context) error {
		_, err := c.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      BucketSnapshots,
			Description: "aggregator partition snapshots p<p>-<seq>",
			Storage:     jetstream.FileStorage,
			Replicas:    t.Replicas,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("bus: provision object store %s: %w", BucketSnapshots, err)
	}
	return nil
}

// provisionAttempt bounds one provisioning request; a cluster electing a leader answers nothing meanwhile.
const provisionAttempt = 5 * time.Second

// provisionStep runs one idempotent provisioning request, retrying it with backoff while the failure is
// transient (no answer, no responders, JetStream or the cluster temporarily unavailable: e.g. an R3 leader
// election at start) until ctx ends, logging each retry at debug level. A refusal of the configuration
// itself is returned at once.
func (c *Conn) provisionStep(ctx context.Context, what string, step func(context.Context) error) error {
	b := backoff.WithContext(backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(200*time.Millisecond), backoff.WithMaxInterval(2*time.Second),
		backoff.WithMaxElapsedTime(0)), ctx)
	return backoff.Retry(func() error {
		attempt, cancel := context.WithTimeout(ctx, provisionAttempt)
		defer cancel()
		err := step(attempt)
		if err == nil {
			return nil
		}
		if !provisionTransient(ctx, err) {
			return backoff.Permanent(err)
		}
		c.log.DebugContext(ctx, "bus: provisioning again", "what", what, "err", err)
		return err
	}, b)
}

// JetStream API error codes that mean "not now" rather than "not this" (nats-server errors.json).
const (
	errClusterNotActive jetstream.ErrorCode = 10006
	errClusterNotLeader jetstream.ErrorCode = 10009
)

// provisionTransient reports whether a provisioning failure may succeed when retried.
func provisionTransient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrPartitionMismatch) {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503 || apiErr.ErrorCode == errClusterNotActive || apiErr.ErrorCode == errClusterNotLeader
	}
	return true // no API answer at all: timeout, no responders, disconnect
}

func (t Topology) kvConfigs() []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{{
		Bucket:      BucketLeases,
		Description: "aggregator members and partition leases",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}, {
		Bucket:      BucketLedger,
		Description: "submitter usage-file state machine",
		History:     8,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}, {
		Bucket:      BucketStatus,
		Description: "service heartbeats: svc.<kind>.<member>, each gone StatusTTL after its last write",
		History:     1,
		TTL:         StatusTTL,
		Storage:     jetstream.MemoryStorage,
		Replicas:    t.Replicas,
	}}
}

// Healthy returns nil when the connection to NATS is up (ErrNotConnected otherwise: it keeps reconnecting).
func (c *Conn) Healthy(context.Context) error {
	if !c.nc.IsConnected() {
		return ErrNotConnected
	}
	return nil
}

// Ready returns nil when the connection is up, every stream exists and USAGE_EVENTS records the partition
// count this connection expects (Config.Partitions, or the last Provision's), if it records one:
// ErrPartitionMismatch otherwise.
func (c *Conn) Ready(ctx context.Context) error {
	if !c.nc.IsConnected() {
		return ErrNotConnected
	}
	for _, name := range []string{StreamEvents, StreamAgg, StreamDLQ} {
		s, err := c.js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("bus: ready: stream %s: %w", name, mapErr(err))
		}
		recorded, want := s.CachedInfo().Config.Metadata[MetaPartitions], c.partitions.Load()
		if name == StreamEvents && recorded != "" && want > 0 {
			if err := partitionsAgree(name, recorded, strconv.FormatInt(want, 10)); err != nil {
				return fmt.Errorf("bus: ready: %w", err)
			}
		}
	}
	return nil
}

// StreamCreated returns the stream's creation time (server clock).
func (c *Conn) StreamCreated(ctx context.Context, stream string) (time.Time, error) {
	info, err := c.streamInfo(ctx, stream)
	if err != nil {
		return time.Time{}, err
	}
	return info.Created, nil
}

// LastSeq returns the stream's last sequence (0 when it never held a message).
func (c *Conn) LastSeq(ctx context.Context, stream string) (uint64, error) {
	info, err := c.streamInfo(ctx, stream)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

func (c *Conn) streamInfo(ctx context.Context, stream string) (*jetstream.StreamInfo, error) {
	s, err := c.stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("bus: stream info %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: stream info %s: %w", stream, mapErr(err))
	}
	return info, nil
}
