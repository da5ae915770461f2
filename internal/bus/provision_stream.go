package bus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MetaPartitions is the USAGE_EVENTS metadata key that records P, the partition count every service must use:
// events are published on usage.events.<events.Partition(subscription, P)> (no subject transform).
const MetaPartitions = "usagepipe.partitions"

// provisionStream creates the stream with want, or updates it to want without ever shrinking its retention or
// duplicate window (the longer of the two is kept, and logged) and, for USAGE_EVENTS, only when the stream
// records the same partition count (ErrPartitionMismatch otherwise; a stream that records none adopts want's).
func (c *Conn) provisionStream(ctx context.Context, want jetstream.StreamConfig) error {
	s, err := c.js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = c.js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile, by another service
			return c.provisionStream(ctx, want)
		}
		return err
	}
	if err != nil {
		return err
	}
	have := s.CachedInfo().Config
	if err := c.checkPartitions(ctx, s, want, have); err != nil {
		return err
	}
	_, err = c.js.UpdateStream(ctx, c.merged(want, have))
	return err
}

// checkPartitions refuses an events stream that records another partition count than want's. A stream that
// records none is adopted unless it holds messages on a partition subject beyond want's count.
func (c *Conn) checkPartitions(ctx context.Context, s jetstream.Stream, want, have jetstream.StreamConfig) error {
	p := want.Metadata[MetaPartitions]
	if p == "" {
		return nil
	}
	if recorded := have.Metadata[MetaPartitions]; recorded != "" {
		return partitionsAgree(want.Name, recorded, p)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(SubjectEvents+".>"))
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(p)
	for subject := range info.State.Subjects {
		if i, err := strconv.Atoi(strings.TrimPrefix(subject, SubjectEvents+".")); err == nil && i >= n {
			return fmt.Errorf("%w: %s records no partition count and holds messages on %s, beyond %s partitions",
				ErrPartitionMismatch, want.Name, subject, p)
		}
	}
	c.log.Info("bus: adopting the partition count", "stream", want.Name, "partitions", p)
	return nil
}

// partitionsAgree compares the partition count a stream records with the expected one.
func partitionsAgree(stream, recorded, expected string) error {
	if recorded != expected {
		return fmt.Errorf("%w: %s was created with %s partitions, this service is configured with %s (--partitions)",
			ErrPartitionMismatch, stream, recorded, expected)
	}
	return nil
}

// merged is want with have's longer MaxAge and Duplicates, and have's metadata under want's (the server's own
// _nats.* keys are left to the server).
func (c *Conn) merged(want, have jetstream.StreamConfig) jetstream.StreamConfig {
	cfg := want
	cfg.MaxAge = c.longer(want.Name, "max age", want.MaxAge, have.MaxAge)
	cfg.Duplicates = c.longer(want.Name, "duplicate window", want.Duplicates, have.Duplicates)
	cfg.Metadata = map[string]string{}
	for k, v := range have.Metadata {
		if !strings.HasPrefix(k, "_nats.") {
			cfg.Metadata[k] = v
		}
	}
	maps.Copy(cfg.Metadata, want.Metadata)
	return cfg
}

// longer returns the longer of want and have, 0 meaning unlimited; keeping have over want is logged.
func (c *Conn) longer(stream, setting string, want, have time.Duration) time.Duration {
	if orUnlimited(want) >= orUnlimited(have) {
		return want
	}
	c.log.Info("bus: keeping the stream's longer setting", "stream", stream, "setting", setting,
		"stream_value", have.String(), "configured", want.String())
	return have
}

func orUnlimited(d time.Duration) time.Duration {
	if d == 0 {
		return math.MaxInt64
	}
	return d
}
