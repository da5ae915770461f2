package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNATSOptionsReportsEveryProblem(t *testing.T) {
	_, err := natsOptions("nohost", "", "", "", "nats-route://a:1", "c")
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"--store", "--addr", "--routes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	opts, err := natsOptions("127.0.0.1:4999", "/tmp/s", "n1", "127.0.0.1:6222",
		"nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223", "c")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Port != 4999 || opts.Cluster == nil || opts.Cluster.Port != 6222 || len(opts.Cluster.Routes) != 2 {
		t.Errorf("options %+v cluster %+v", opts, opts.Cluster)
	}
}

// syncBuffer is a goroutine-safe writer for the command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunNATSServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runNATS(ctx, []string{"--addr", "127.0.0.1:0", "--store", t.TempDir()}, func(string) string { return "" }, out)
	}()
	for !strings.Contains(out.String(), "nats ready nats://127.0.0.1:") {
		select {
		case err := <-done:
			t.Fatalf("runNATS ended: %v (output %q)", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := runNATS(context.Background(), []string{"--validate"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--validate without --store: want an error")
	}
}
