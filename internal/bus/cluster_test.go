package bus

import (
	"errors"
	"fmt"
	"testing"

	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

// TestClusterR3 runs the bus against a 3-node cluster with replicated streams and buckets, and keeps
// publishing and committing while one node restarts.
func TestClusterR3(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster: skipped with -short")
	}
	cluster := natsembedtest.StartCluster(t, 3)
	c := connect(t, cluster.URLs())
	ctx := testContext(t)
	if err := c.Provision(ctx, Topology{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Provision(ctx, Topology{Replicas: 3}); err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	info, err := c.streamInfo(ctx, StreamAgg)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 {
		t.Fatalf("AGG replicas %d, want 3", info.Config.Replicas)
	}
	acked := map[string]uint64{}
	publish := func(tag string) {
		msgs := make([]Msg, 200)
		for i := range msgs {
			msgs[i] = eventMsg(i%4, fmt.Sprintf("%s-%d", tag, i), tag)
		}
		acks, err := c.PublishBatch(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range acks {
			acked[msgs[i].Header.Get(HeaderMsgID)] = a.Seq
		}
	}
	publish("a")
	last, err := c.CommitAtomic(ctx, aggBatch(1, "first", 10), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.Nodes()[0].Restart(); err != nil {
		t.Fatal(err)
	}
	publish("b")
	if _, err := c.CommitAtomic(ctx, aggBatch(1, "stale", 3), 0); !errors.Is(err, ErrFenced) {
		t.Fatalf("stale fence on R3: %v, want ErrFenced", err)
	}
	if _, err := c.CommitAtomic(ctx, aggBatch(1, "second", 3), last-10); err != nil {
		t.Fatalf("commit on the fence: %v", err)
	}
	kv, err := c.KV(ctx, BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Create(ctx, "file.1", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, "file.1", []byte("x"), rev+100); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("stale update on R3: %v, want ErrRevisionMismatch", err)
	}
	checkStoredOnce(t, c, acked, 400)
}
