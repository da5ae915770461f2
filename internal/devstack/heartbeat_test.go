package devstack_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// TestEveryServiceWritesItsHeartbeat: ingest, the aggregator and the submitter each keep a heartbeat in the
// status bucket; ingest's counts the events it accepted.
func TestEveryServiceWritesItsHeartbeat(t *testing.T) {
	st := start(t, testOptions(t, t.TempDir()))
	post(t, st, st.Catalogs().ExampleEvent("hb-1", time.Now()), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: st.URLs().NATS, Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var kinds map[string]svcstatus.Heartbeat
	for deadline := time.Now().Add(20 * time.Second); ; {
		hbs, err := svcstatus.Read(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		kinds = map[string]svcstatus.Heartbeat{}
		for _, hb := range hbs {
			kinds[hb.Kind] = hb
		}
		in := kinds[svcstatus.KindIngest].Ingest
		agg := kinds[svcstatus.KindAggregator].Aggregator
		if in != nil && in.Accepted >= 1 && agg != nil && len(agg.Partitions) == 2 && kinds[svcstatus.KindSubmitter].Submitter != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heartbeats %+v", kinds)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
