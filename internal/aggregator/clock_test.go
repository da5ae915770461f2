package aggregator

import (
	"context"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// TestTheWorkerKeepsItsInjectedClock: the heartbeat and the leases a worker writes expire at its own clock's
// time plus the lease TTL, whatever the wall clock says (here a clock five years ahead, standing still).
func TestTheWorkerKeepsItsInjectedClock(t *testing.T) {
	env := newTestEnv(t, 2)
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	o := env.testOptions("clocked")
	o.Now = func() time.Time { return at }
	startWorker(t, env.conn, o)
	kv, err := env.conn.KV(context.Background(), bus.BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	want := at.Add(o.LeaseTTL).UnixMilli()
	for _, key := range []string{memberKeyPrefix + "clocked", leaseKey(0), leaseKey(1)} {
		waitFor(t, key+" written", func() bool {
			e, err := kv.Get(context.Background(), key)
			if err != nil {
				return false
			}
			c, err := decodeClaim(e.Value)
			return err == nil && c.Owner == "clocked" && c.Expires == want
		})
	}
}
