package deadletter

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// laggingKV is the ledger's bucket read from a replica one write behind: after a replay index is created,
// its next reads find no key, as a KV direct get answered by a replica that has not applied the create
// yet. Writes go to the real bucket, whose compare-and-set stays exact.
type laggingKV struct {
	*bus.KV
	mu     sync.Mutex
	behind map[string]int // key → reads left that miss it
	missed int
}

func (k *laggingKV) Create(ctx context.Context, key string, val []byte) (uint64, error) {
	rev, err := k.KV.Create(ctx, key, val)
	if err == nil && strings.HasPrefix(key, ledger.ReplayedPrefix) {
		k.mu.Lock()
		k.behind[key] = 2
		k.mu.Unlock()
	}
	return rev, err
}

func (k *laggingKV) Get(ctx context.Context, key string) (bus.Entry, error) {
	k.mu.Lock()
	if k.behind[key] > 0 {
		k.behind[key]--
		k.missed++
		k.mu.Unlock()
		return bus.Entry{}, bus.ErrNotFound
	}
	k.mu.Unlock()
	return k.KV.Get(ctx, key)
}

// TestAReplayReadsItsOwnIndexThroughLaggingReplicas: with a replicated ledger a replay's own claim of the
// event's key may read back as missing for a moment; the replay still finishes, once, its index naming the
// letter and the copy (a chaos run on a 3-node cluster failed its replays on this).
func TestAReplayReadsItsOwnIndexThroughLaggingReplicas(t *testing.T) {
	e := newEnv(t)
	kv, err := e.conn.KV(e.ctx, bus.BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	lag := &laggingKV{KV: kv, behind: map[string]int{}}
	e.ledger = ledger.New(lag)
	now := time.Now()
	ev := event("e-lag", "AS-0001-0001-0007", "PRD-FIX", now.Add(-time.Minute))
	id := e.keptRejection(ev, events.ReasonUnknownProduct)

	rep := e.replay(e.service(fixedCatalog, now), Filter{}, true)
	if it := rep.Items[0]; it.Decision != DecisionCount || !it.Executed || it.Seq == 0 {
		t.Fatalf("replay: %+v", it)
	}
	if lag.missed == 0 {
		t.Fatal("no read missed the index: the test lagged nothing")
	}
	x, _, err := e.ledger.ReplayIndex(e.ctx, ledger.ReplayedEventKey(ev.Source, ev.ID))
	if err != nil || x.DeadLetter != id || x.Seq != rep.Items[0].Seq {
		t.Fatalf("index %+v (%v), want %s at seq %d", x, err, id, rep.Items[0].Seq)
	}
	if n := len(e.copies(bus.StreamEvents, id)); n != 1 {
		t.Fatalf("%d copies, want 1", n)
	}
}
