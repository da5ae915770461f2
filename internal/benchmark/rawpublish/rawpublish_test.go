package rawpublish

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// TestRunStoresEveryMessageOnce publishes against an embedded JetStream: every message is stored once,
// spread over the partitions, and a second measurement with another id prefix stores as many again.
func TestRunStoresEveryMessageOnce(t *testing.T) {
	srv := natsembedtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: "rawpublish-test", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Provision(ctx, bus.Topology{Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	o := Options{Messages: 2500, Window: 100, Publishers: 3, Partitions: 4, IDPrefix: "a"}
	for i, prefix := range []string{"a", "b"} {
		o.IDPrefix = prefix
		rate, err := Run(ctx, conn, o)
		if err != nil || rate <= 0 {
			t.Fatalf("Run: %v msgs/s, %v", rate, err)
		}
		if last, err := conn.LastSeq(ctx, bus.StreamEvents); err != nil || last != uint64((i+1)*o.Messages) {
			t.Fatalf("after measurement %d the stream's last seq is %d (%v), want %d", i+1, last, err, (i+1)*o.Messages)
		}
	}
	for p := range 4 {
		m, err := conn.LastMsg(ctx, bus.StreamEvents, subjects.Events(p))
		if err != nil || len(m.Data) != MessageBytes {
			t.Errorf("partition %d: last message of %d bytes, %v", p, len(m.Data), err)
		}
	}
	if _, err := Run(ctx, conn, Options{Messages: 1}); err == nil {
		t.Error("zero window and publishers: want an error")
	}
}
