package aggregator

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestWorkerStartRetriesWhileNATSIsDown: a worker started while the server is down retries its start (it
// does not exit), owns partitions once the server is back, and a stop during the retries is a clean nil.
func TestWorkerStartRetriesWhileNATSIsDown(t *testing.T) {
	env := newTestEnv(t, 2)
	env.srv.Shutdown()
	var logs lockedBuffer
	o := env.testOptions("starter")
	o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	w, err := New(env.conn, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, "a retried start", func() bool { return strings.Contains(logs.String(), "aggregator start failed; retrying") })
	if err := env.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the worker to start", func() bool { return strings.Contains(logs.String(), "aggregator worker started") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after a clean stop: %v", err)
	}
}

// TestWorkerStoppedWhileStartingReturnsNil: cancelling a worker that cannot start yet is a clean shutdown.
func TestWorkerStoppedWhileStartingReturnsNil(t *testing.T) {
	env := newTestEnv(t, 1)
	env.srv.Shutdown()
	w, err := New(env.conn, env.testOptions("stopped"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Errorf("Run cancelled while starting: %v, want nil", err)
	}
}

// waitFor polls cond every 20 ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
