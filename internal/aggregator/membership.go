package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// leaseKV models the bus KV bucket of members and leases (internal/bus.KV).
type leaseKV interface {
	Get(ctx context.Context, key string) (bus.Entry, error)
	Create(ctx context.Context, key string, val []byte) (uint64, error)
	Update(ctx context.Context, key string, val []byte, rev uint64) (uint64, error)
	Put(ctx context.Context, key string, val []byte) (uint64, error)
	Delete(ctx context.Context, key string, lastRev uint64) error
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// Keys of the leases bucket.
const (
	memberKeyPrefix = "member."
	leaseKeyPrefix  = "lease."
)

// claim is the value of member.<id> and lease.<p>: who, and until when (Unix milliseconds, the writer's clock).
// A lease with an empty Owner is released.
type claim struct {
	Owner   string `json:"owner"`
	Expires int64  `json:"expires"`
}

func newClaim(owner string, until time.Time) []byte {
	b, _ := json.Marshal(claim{Owner: owner, Expires: until.UnixMilli()})
	return b
}

func decodeClaim(b []byte) (claim, error) {
	var c claim
	if err := json.Unmarshal(b, &c); err != nil {
		return claim{}, fmt.Errorf("decode claim: %w", err)
	}
	return c, nil
}

// live reports whether the claim is held and unexpired at now.
func (c claim) live(now time.Time) bool { return c.Owner != "" && now.UnixMilli() < c.Expires }

// heartbeat announces this member until now+ttl.
func heartbeat(ctx context.Context, kv leaseKV, id string, now time.Time, ttl time.Duration) error {
	if _, err := kv.Put(ctx, memberKeyPrefix+id, newClaim(id, now.Add(ttl))); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// liveMembers returns the ids of members whose heartbeat has not expired at now, always including self.
func liveMembers(ctx context.Context, kv leaseKV, self string, now time.Time) ([]string, error) {
	keys, err := kv.Keys(ctx, memberKeyPrefix)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	members := []string{self}
	for _, k := range keys {
		id := strings.TrimPrefix(k, memberKeyPrefix)
		if id == self {
			continue
		}
		e, err := kv.Get(ctx, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		if c, err := decodeClaim(e.Value); err == nil && c.live(now) {
			members = append(members, id)
		}
	}
	return members, nil
}
