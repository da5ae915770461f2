package svcstatus

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

func TestRatesOverTheLastMinute(t *testing.T) {
	var r Rates
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := r.Observe(t0, 100, 5); got[0] != 0 || got[1] != 0 {
		t.Fatalf("first observation: %v", got)
	}
	if got := r.Observe(t0.Add(10*time.Second), 200, 5); got[0] != 10 || got[1] != 0 {
		t.Fatalf("after 10 s: %v, want 10/s and 0/s", got)
	}
	for i := 2; i <= 20; i++ {
		r.Observe(t0.Add(time.Duration(i)*10*time.Second), uint64(100+100*i), 5)
	}
	// 200 s in, 10/s all along: the window is the last minute (or a little more), the rate still 10/s.
	got := r.Observe(t0.Add(210*time.Second), 2200, 65)
	if got[0] != 10 || got[1] < 0.85 || got[1] > 1.0 {
		t.Fatalf("steady rate: %v, want 10/s and about 60/60–70 s", got)
	}
}

// TestHeartbeatWrittenReadAndRemoved: Run writes the heartbeat with the service's part, Read lists it, and a
// clean stop removes it.
func TestHeartbeatWrittenReadAndRemoved(t *testing.T) {
	srv := natsembedtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Provision(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(runCtx, conn, Heartbeat{Kind: KindSubmitter, Member: "sub.1", OpsAddr: "127.0.0.1:9103"},
			func(hb *Heartbeat) { hb.Submitter = &Submitter{Files: map[string]int{"accepted": 3}} }, slog.New(slog.DiscardHandler))
	}()
	var hbs []Heartbeat
	for deadline := time.Now().Add(10 * time.Second); len(hbs) == 0; {
		if hbs, err = Read(ctx, conn); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no heartbeat written")
		}
	}
	hb := hbs[0]
	if hb.Kind != KindSubmitter || hb.Member != "sub.1" || hb.Submitter == nil || hb.Submitter.Files["accepted"] != 3 ||
		hb.Started.IsZero() || hb.Version == "" {
		t.Fatalf("heartbeat %+v", hb)
	}
	stop()
	<-done
	if hbs, err = Read(ctx, conn); err != nil || len(hbs) != 0 {
		t.Fatalf("after a clean stop: %+v, %v", hbs, err)
	}
}
