package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// usagepipe dev starts the stack, prints where everything is and status lines, and stops cleanly when its
// context ends (Ctrl-C), keeping the data directory for the next start.
func TestRunDevServesUntilCancelledAndResumes(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--ingest-addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0",
		"--metrics-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0", "--status-every", "100ms"}
	for _, want := range []string{"(new, 4 partitions)", "(resumed, 4 partitions)"} {
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, append([]string{"dev"}, args...), func(string) string { return "" }, out) }()
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(out.String(), "files none yet") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("dev: %v\n%s", err, out)
		}
		for _, line := range []string{want, "Send an event:", "curl -sS http://127.0.0.1:", "files none yet", "stopping:"} {
			if !strings.Contains(out.String(), line) {
				t.Errorf("output lacks %q:\n%s", line, out)
			}
		}
	}
}

func TestRunDevValidatesItsFlags(t *testing.T) {
	out := &syncBuffer{}
	err := run(context.Background(), []string{"dev", "--partitions", "0", "-validate"}, func(string) string { return "" }, out)
	if err == nil || !strings.Contains(out.String(), "configuration invalid") {
		t.Errorf("want an invalid configuration, have %v:\n%s", err, out)
	}
}
