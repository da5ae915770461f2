package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/natsembed"
)

func TestProvisionIsIdempotent(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	created, err := c.StreamCreated(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Provision(ctx, Topology{}); err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	again, err := c.StreamCreated(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(created) {
		t.Errorf("stream recreated: created %v, then %v", created, again)
	}
	if err := c.Ready(ctx); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestProvisionedConfiguration(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	for _, name := range []string{StreamEvents, StreamAgg, StreamDLQ} {
		info, err := c.streamInfo(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.ConsumerLimits.InactiveThreshold != 0 {
			t.Errorf("%s: consumer limits InactiveThreshold %v, want none", name, info.Config.ConsumerLimits.InactiveThreshold)
		}
		if want, have := name == StreamAgg, info.Config.AllowAtomicPublish; want != have {
			t.Errorf("%s: AllowAtomicPublish %v, want %v", name, have, want)
		}
	}
	info, err := c.streamInfo(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if want, have := 7*24*time.Hour, info.Config.MaxAge; want != have {
		t.Errorf("events MaxAge %v, want %v", have, want)
	}
	if want, have := 10*time.Minute, info.Config.Duplicates; want != have {
		t.Errorf("events Duplicates %v, want %v", have, want)
	}
	ledger, err := c.KV(ctx, BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	status, err := ledger.kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want, have := int64(8), status.History(); want != have {
		t.Errorf("ledger history %d, want %d", have, want)
	}
}

func TestReadyFailsBeforeProvision(t *testing.T) {
	srv := natsembed.StartTest(t)
	c := connect(t, srv.URL())
	if err := c.Ready(testContext(t)); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Ready before Provision: %v, want ErrStreamNotFound", err)
	}
}

func TestProvisionWaitsForTheServer(t *testing.T) {
	srv, c := setup(t)
	srv.Shutdown()
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(700 * time.Millisecond) // let at least one provisioning attempt fail first
		restarted <- srv.Restart()
	}()
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatalf("Provision across a server restart: %v", err)
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
}

func TestProvisionRefusesABadConfigurationAtOnce(t *testing.T) {
	_, c := setup(t)
	ctx, cancel := context.WithTimeout(testContext(t), time.Minute)
	defer cancel()
	err := c.Provision(ctx, Topology{Replicas: 3}) // a single server cannot hold 3 replicas
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Provision with 3 replicas on one server: %v (ctx: %v), want an immediate refusal", err, ctx.Err())
	}
}
