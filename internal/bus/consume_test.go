package bus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestConsumeRedeliversNakAndNotDoubleAcked: a Nak'd message comes back; once everything is double-acked the
// server holds nothing pending or unacknowledged, so nothing will be redelivered.
func TestConsumeRedeliversNakAndNotDoubleAcked(t *testing.T) {
	_, c := setup(t)
	publishEvents(t, c, "e", 5, 1)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var (
		mu         sync.Mutex
		deliveries = map[uint64][]uint64{} // seq -> NumDelivered of each delivery
		acked      = map[uint64]bool{}
	)
	allAcked := make(chan struct{})
	o := ConsumeOptions{Durable: "test", AckWait: 30 * time.Second}
	done := make(chan error, 1)
	go func() {
		done <- c.Consume(ctx, StreamEvents, o, func(ctx context.Context, d *Delivery) {
			mu.Lock()
			defer mu.Unlock()
			deliveries[d.Seq] = append(deliveries[d.Seq], d.NumDelivered)
			if d.Seq == 3 && d.NumDelivered == 1 {
				if err := d.Nak(0); err != nil {
					t.Error(err)
				}
				return
			}
			if err := d.Ack(ctx); err != nil {
				t.Error(err)
				return
			}
			acked[d.Seq] = true
			if len(acked) == 5 {
				close(allAcked)
			}
		})
	}()
	select {
	case <-allAcked:
	case err := <-done:
		t.Fatalf("Consume ended: %v", err)
	}
	pending, ackPending, err := c.ConsumerLag(ctx, StreamEvents, "test")
	if err != nil {
		t.Fatal(err)
	}
	if pending != 0 || ackPending != 0 {
		t.Errorf("lag after acking everything: pending %d, ack pending %d", pending, ackPending)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Consume after cancel: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if d := deliveries[3]; len(d) != 2 || d[1] != 2 {
		t.Errorf("Nak'd message deliveries %v, want [1 2]", d)
	}
	for _, seq := range []uint64{1, 2, 4, 5} {
		if d := deliveries[seq]; len(d) != 1 {
			t.Errorf("message %d delivered %v times", seq, d)
		}
	}
}

// TestConsumeResumesAfterRestartAndDeletion: the durable survives a server restart, and Consume recreates a
// consumer deleted under it; acknowledged messages are not delivered again.
func TestConsumeResumesAfterRestartAndDeletion(t *testing.T) {
	srv, c := setup(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	got := make(chan uint64, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Consume(ctx, StreamEvents, ConsumeOptions{Durable: "resume", Filters: []string{SubjectEvents + ".0"}},
			func(ctx context.Context, d *Delivery) {
				if err := d.Ack(ctx); err == nil {
					got <- d.Seq
				}
			})
	}()
	expect := func(from, to uint64) {
		t.Helper()
		for want := from; want <= to; want++ {
			select {
			case seq := <-got:
				if seq != want {
					t.Fatalf("delivered seq %d, want %d", seq, want)
				}
			case err := <-done:
				t.Fatalf("Consume ended: %v", err)
			}
		}
	}
	publishEvents(t, c, "a", 10, 1)
	expect(1, 10)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	publishEvents(t, c, "b", 10, 1)
	expect(11, 20)
	if err := c.js.DeleteConsumer(ctx, StreamEvents, "resume"); err != nil {
		t.Fatal(err)
	}
	publishEvents(t, c, "c", 5, 1)
	// The recreated durable starts again from the beginning (DeliverAll): at-least-once, never skipping.
	expect(1, 25)
	cancel()
	<-done
}

func TestConsumeRejectsInvalidOptions(t *testing.T) {
	_, c := setup(t)
	err := c.Consume(testContext(t), StreamEvents, ConsumeOptions{}, func(context.Context, *Delivery) {})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("no durable: %v, want ErrInvalid", err)
	}
	for name, o := range map[string]ConsumeOptions{
		"bad durable name":    {Durable: "a.b"},
		"overlapping filters": {Durable: "x", Filters: []string{SubjectEvents + ".>", SubjectEvents + ".1"}},
	} {
		err = c.Consume(testContext(t), StreamEvents, o, func(context.Context, *Delivery) {})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
