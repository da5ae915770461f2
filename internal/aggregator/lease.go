package aggregator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// errLeaseTaken: the lease is held by another live member.
var errLeaseTaken = errors.New("lease held by another member")

// lease is a partition lease this member holds: the KV revision to compare-and-set against, and the expiry it
// last wrote.
type lease struct {
	rev     uint64
	expires time.Time
}

func leaseKey(p int) string { return leaseKeyPrefix + strconv.Itoa(p) }

// acquireLease takes lease.<p> for id until now+ttl if it is absent, released, expired, or already id's.
// It returns errLeaseTaken when another member holds it, or a KV error (a lost race shows as ErrExists or
// ErrRevisionMismatch).
func acquireLease(ctx context.Context, kv leaseKV, p int, id string, now time.Time, ttl time.Duration) (lease, error) {
	key, val, until := leaseKey(p), newClaim(id, now.Add(ttl)), now.Add(ttl)
	e, err := kv.Get(ctx, key)
	if errors.Is(err, bus.ErrNotFound) {
		rev, err := kv.Create(ctx, key, val)
		if err != nil {
			return lease{}, fmt.Errorf("acquire %s: %w", key, err)
		}
		return lease{rev: rev, expires: until}, nil
	}
	if err != nil {
		return lease{}, fmt.Errorf("acquire %s: %w", key, err)
	}
	if c, err := decodeClaim(e.Value); err == nil && c.live(now) && c.Owner != id {
		return lease{}, fmt.Errorf("acquire %s (owner %s): %w", key, c.Owner, errLeaseTaken)
	}
	rev, err := kv.Update(ctx, key, val, e.Revision)
	if err != nil {
		return lease{}, fmt.Errorf("acquire %s: %w", key, err)
	}
	return lease{rev: rev, expires: until}, nil
}

// renewLease extends a held lease to now+ttl with compare-and-set; ErrRevisionMismatch or ErrNotFound means it
// was lost.
func renewLease(ctx context.Context, kv leaseKV, p int, id string, l lease, now time.Time, ttl time.Duration) (lease, error) {
	rev, err := kv.Update(ctx, leaseKey(p), newClaim(id, now.Add(ttl)), l.rev)
	if err != nil {
		return l, fmt.Errorf("renew %s: %w", leaseKey(p), err)
	}
	return lease{rev: rev, expires: now.Add(ttl)}, nil
}

// releaseLease deletes a held lease with compare-and-set (a lease already taken over is left alone).
func releaseLease(ctx context.Context, kv leaseKV, p int, l lease) error {
	if err := kv.Delete(ctx, leaseKey(p), l.rev); err != nil {
		return fmt.Errorf("release %s: %w", leaseKey(p), err)
	}
	return nil
}

// leaseLost reports whether a renewal error means another member now holds the lease.
func leaseLost(err error) bool {
	return errors.Is(err, bus.ErrRevisionMismatch) || errors.Is(err, bus.ErrNotFound) || errors.Is(err, bus.ErrExists)
}
