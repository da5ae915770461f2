package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

func TestPublishBatchReportsDuplicates(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	batch := []Msg{eventMsg(1, "a", "A"), eventMsg(2, "b", "B")}
	first, err := c.PublishBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range first {
		if a.Duplicate || a.Seq != uint64(i+1) {
			t.Errorf("first publish ack %d: %+v", i, a)
		}
	}
	again, err := c.PublishBatch(ctx, []Msg{eventMsg(3, "c", "C"), eventMsg(2, "b", "B")})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Duplicate || again[0].Seq != 3 {
		t.Errorf("new message ack %+v, want seq 3, not duplicate", again[0])
	}
	if !again[1].Duplicate || again[1].Seq != first[1].Seq {
		t.Errorf("republished message ack %+v, want duplicate of seq %d", again[1], first[1].Seq)
	}
	if n := len(readAll(t, c, StreamEvents, ReadOptions{})); n != 3 {
		t.Errorf("stream holds %d messages, want 3", n)
	}
}

func TestPublishKeepsHeadersAndGivesMissingMsgIDs(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	h := Header{"traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	ack, err := c.Publish(ctx, Msg{Subject: SubjectDLQ + ".ingest.bad", Header: h, Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h[HeaderMsgID]; ok {
		t.Error("Publish modified the caller's header")
	}
	m, err := c.GetMsg(ctx, StreamDLQ, ack.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("traceparent") != h.Get("traceparent") || m.Header.Get(HeaderMsgID) == "" {
		t.Errorf("stored header %v", m.Header)
	}
	if !bytes.Equal(m.Data, []byte("x")) || m.Time.IsZero() {
		t.Errorf("stored message %+v", m)
	}
}

func TestPublishRejectsPermanentErrors(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	if _, err := c.Publish(ctx, Msg{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no subject: %v, want ErrInvalid", err)
	}
	big := make([]byte, 2<<20)
	if _, err := c.Publish(ctx, Msg{Subject: SubjectEvents + ".1", Data: big}); err == nil {
		t.Error("2 MiB message: want an error")
	}
}

// TestPublishBatchAcrossRestart restarts the server while several publishers run: every acknowledged message
// is stored, and no message is stored twice.
// TestPublishBatchAcrossRestart restarts the server while publishers send batches, until some publish had to
// be republished (so the restart was really crossed); every message is stored exactly once.
func TestPublishBatchAcrossRestart(t *testing.T) {
	srv := natsembedtest.Start(t)
	var republished counter
	c, err := Connect(testContext(t), Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(&republished)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	const publishers, size = 3, 100
	var (
		mu       sync.Mutex
		acked    = map[string]uint64{} // msg id -> seq
		wg       sync.WaitGroup
		stop     atomic.Bool
		progress = make(chan struct{}, 1)
	)
	for p := range publishers {
		wg.Go(func() {
			for b := 0; !stop.Load(); b++ {
				msgs := make([]Msg, size)
				for i := range msgs {
					msgs[i] = eventMsg(p, fmt.Sprintf("p%d-b%d-m%d", p, b, i), "payload")
				}
				acks, err := c.PublishBatch(ctx, msgs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, a := range acks {
					acked[msgs[i].Header.Get(HeaderMsgID)] = a.Seq
				}
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	for restart := 0; republished.n.Load() == 0; restart++ {
		if restart == 20 {
			t.Fatal("20 restarts and no publish had to be republished")
		}
		<-progress
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	<-progress // after the restart
	stop.Store(true)
	wg.Wait()
	t.Logf("%d republish rounds", republished.n.Load())
	mu.Lock()
	defer mu.Unlock()
	checkStoredOnce(t, c, acked, len(acked))
}

// counter is a slog handler counting PublishBatch's "republishing" records (at every level).
type counter struct{ n atomic.Int64 }

func (h *counter) Enabled(context.Context, slog.Level) bool { return true }
func (h *counter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *counter) WithGroup(string) slog.Handler            { return h }
func (h *counter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "bus: republishing" {
		h.n.Add(1)
	}
	return nil
}

func checkStoredOnce(t *testing.T, c *Conn, acked map[string]uint64, want int) {
	t.Helper()
	if len(acked) != want {
		t.Fatalf("%d messages acknowledged, want %d", len(acked), want)
	}
	seen := map[string]uint64{}
	for _, m := range readAll(t, c, StreamEvents, ReadOptions{}) {
		id := m.Header.Get(HeaderMsgID)
		if prev, dup := seen[id]; dup {
			t.Errorf("message %s stored twice: seq %d and %d", id, prev, m.Seq)
		}
		seen[id] = m.Seq
	}
	for id, seq := range acked {
		if seen[id] != seq {
			t.Errorf("acknowledged message %s at seq %d: stored at %d", id, seq, seen[id])
		}
	}
	if len(seen) != len(acked) {
		t.Errorf("stream holds %d messages, %d acknowledged", len(seen), len(acked))
	}
}

func TestPublishStopsWhenContextEnds(t *testing.T) {
	srv, c := setup(t)
	srv.Shutdown()
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if _, err := c.Publish(ctx, eventMsg(1, "x", "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("publish with server down and ctx cancelled: %v", err)
	}
}

// TestPublishBatchWaitsOutAnOutage publishes while the server is down; the batch completes once it is back,
// each message stored once.
func TestPublishBatchWaitsOutAnOutage(t *testing.T) {
	srv, c := setup(t)
	srv.Shutdown()
	msgs := make([]Msg, 500)
	for i := range msgs {
		msgs[i] = eventMsg(i%4, fmt.Sprintf("outage-%d", i), "x")
	}
	result := make(chan error, 1)
	acked := map[string]uint64{}
	go func() {
		acks, err := c.PublishBatch(testContext(t), msgs)
		for i, a := range acks {
			acked[msgs[i].Header.Get(HeaderMsgID)] = a.Seq
		}
		result <- err
	}()
	waitUntil(t, "every publish queued against the outage", func() bool { return len(c.window) == len(msgs) })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	checkStoredOnce(t, c, acked, len(msgs))
}
