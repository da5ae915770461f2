package bus

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
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
	if want, have := "16", info.Config.Metadata[MetaPartitions]; want != have {
		t.Errorf("events metadata %s = %q, want %q", MetaPartitions, have, want)
	}
	dlq, err := c.streamInfo(ctx, StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	if want, have := 20*time.Minute, dlq.Config.Duplicates; want != have {
		t.Errorf("DLQ Duplicates %v, want %v (above the submitter's lease TTL)", have, want)
	}
	for _, name := range []string{StreamDLQ, StreamAgg} {
		if info, err := c.streamInfo(ctx, name); err != nil || info.Config.MaxAge != 0 {
			t.Errorf("%s MaxAge %v (%v), want none: retention purges only what is no longer needed", name, info.Config.MaxAge, err)
		}
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
	srv := natsembedtest.Start(t)
	c := connect(t, srv.URL())
	if err := c.Ready(testContext(t)); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Ready before Provision: %v, want ErrStreamNotFound", err)
	}
}

func TestProvisionWaitsForTheServer(t *testing.T) {
	srv := natsembedtest.Start(t)
	var log logRecords
	c, err := Connect(testContext(t), Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()
	restarted := make(chan error, 1)
	go func() { // once an attempt has failed against the outage
		ctx := testContext(t)
		for !log.has("bus: provisioning again") && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
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

// TestPartitionCountMustAgree: a service configured with another P than the stream was created with is
// refused by Provision and Ready, at once; one with the same P is not.
func TestPartitionCountMustAgree(t *testing.T) {
	srv, _ := setup(t) // P = 16
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	other, err := Connect(ctx, Config{URL: srv.URL(), Name: t.Name(), Log: quietLog(), Partitions: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Ready(ctx); !errors.Is(err, ErrPartitionMismatch) {
		t.Errorf("Ready with 32 partitions: %v, want ErrPartitionMismatch", err)
	}
	if err := other.Provision(ctx, Topology{Partitions: 32}); !errors.Is(err, ErrPartitionMismatch) || ctx.Err() != nil {
		t.Errorf("Provision with 32 partitions: %v (ctx: %v), want ErrPartitionMismatch at once", err, ctx.Err())
	}
	same := connect(t, srv.URL())
	if err := same.Provision(ctx, Topology{Partitions: 16}); err != nil {
		t.Errorf("Provision with 16 partitions: %v", err)
	}
	if err := same.Ready(ctx); err != nil {
		t.Errorf("Ready with 16 partitions: %v", err)
	}
}

// TestAStreamWithoutAPartitionCountIsAdoptedOnce: a USAGE_EVENTS made before the count was recorded takes the
// first Provision's count, unless it holds messages on a partition beyond it; later counts must agree.
func TestAStreamWithoutAPartitionCountIsAdoptedOnce(t *testing.T) {
	srv := natsembedtest.Start(t)
	c := connect(t, srv.URL())
	ctx := testContext(t)
	old := Topology{}.WithDefaults().streamConfigs()[0]
	old.Metadata = nil
	if _, err := c.js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, eventMsg(3, "on-3", "x")); err != nil {
		t.Fatal(err)
	}
	if err := c.Provision(ctx, Topology{Partitions: 2}); !errors.Is(err, ErrPartitionMismatch) {
		t.Fatalf("Provision with 2 partitions over messages on partition 3: %v, want ErrPartitionMismatch", err)
	}
	if err := c.Provision(ctx, Topology{Partitions: 4}); err != nil {
		t.Fatalf("Provision with 4 partitions: %v", err)
	}
	info, err := c.streamInfo(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if want, have := "4", info.Config.Metadata[MetaPartitions]; want != have {
		t.Errorf("adopted count %q, want %q", have, want)
	}
	if err := c.Provision(ctx, Topology{Partitions: 8}); !errors.Is(err, ErrPartitionMismatch) {
		t.Errorf("Provision with 8 partitions after adopting 4: %v, want ErrPartitionMismatch", err)
	}
}

// TestProvisionNeverShrinksRetention: an operator's longer MaxAge and duplicate window survive every
// service's Provision with the defaults; a longer configured value is applied.
func TestProvisionNeverShrinksRetention(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	info, err := c.streamInfo(ctx, StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	raised := info.Config
	raised.MaxAge, raised.Duplicates = 30*24*time.Hour, time.Hour
	if _, err := c.js.UpdateStream(ctx, raised); err != nil {
		t.Fatal(err)
	}
	check := func(step string, maxAge, dedup time.Duration) {
		t.Helper()
		info, err := c.streamInfo(ctx, StreamEvents)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.MaxAge != maxAge || info.Config.Duplicates != dedup {
			t.Errorf("%s: MaxAge %v, Duplicates %v; want %v, %v", step, info.Config.MaxAge, info.Config.Duplicates, maxAge, dedup)
		}
	}
	if err := c.Provision(ctx, Topology{}); err != nil {
		t.Fatal(err)
	}
	check("Provision with the defaults", 30*24*time.Hour, time.Hour)
	if err := c.Provision(ctx, Topology{EventsMaxAge: 60 * 24 * time.Hour, DedupWindow: 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	check("Provision with longer values", 60*24*time.Hour, 2*time.Hour)
}
