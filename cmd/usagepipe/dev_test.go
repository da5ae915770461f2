package main

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// usagepipe dev starts the stack, prints where everything is and status lines, and stops cleanly when its
// context ends (Ctrl-C), keeping the data directory for the next start.
func TestRunDevServesUntilCancelledAndResumes(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--ingest-addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0",
		"--metrics-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0", "--operator-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0", "--status-every", "100ms"}
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
		for _, line := range []string{want, "Send an event:", "curl -sS http://127.0.0.1:", "  console    http://127.0.0.1:", "files none yet", "stopping:"} {
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

// A second `usagepipe dev` on the data directory of a running one is refused, and so is --fresh, naming the
// running one's pid; once that one is SIGKILLed, dev starts on the directory at once and resumes it.
func TestDevOnAHeldDataDirectoryIsRefusedUntilItsHolderDies(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"dev", "--data", data, "--ingest-addr", "127.0.0.1:0", "--emulator-addr", "127.0.0.1:0",
		"--metrics-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0", "--operator-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0", "--status-every", "1h"}
	holder := startChild(t, args...)
	holder.waitLine(t, "Send an event:")
	pid := "pid " + strconv.Itoa(holder.cmd.Process.Pid) + " "
	for _, extra := range [][]string{nil, {"--fresh"}} {
		err := run(context.Background(), append(append([]string(nil), args...), extra...), func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), filepath.Join(data, ".lock")) {
			t.Fatalf("dev %v on a held directory: want a refusal naming %q and the lock file, have %v", extra, pid, err)
		}
	}
	holder.kill()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, out) }()
	for !strings.Contains(out.String(), "Send an event:") {
		select {
		case err := <-done:
			t.Fatalf("dev after the holder was killed: %v\n%s", err, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil || !strings.Contains(out.String(), "(resumed, 4 partitions)") {
		t.Fatalf("dev after the holder was killed: %v\n%s", err, out)
	}
}
