package pipelinetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/usagepipe/usagepipe/internal/aggregator"
)

// ChildEnv makes a re-executed test binary run the aggregator command instead of its tests (Main).
const ChildEnv = "PIPELINETEST_AGGREGATOR_CHILD"

// Main runs the tests, or, in a child started by StartAggregatorChild, the aggregator command configured by
// its USAGEPIPE_* variables. Call it from TestMain.
func Main(m *testing.M) {
	if os.Getenv(ChildEnv) == "" {
		os.Exit(m.Run())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := aggregator.Run(ctx, nil, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "aggregator child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Child is an aggregator worker running as a separate process.
type Child struct {
	Member string
	cmd    *exec.Cmd
	done   chan struct{}
	log    string
}

// StartAggregatorChild starts an aggregator worker process with the world's fast settings; its log is shown
// when the test fails. The package's TestMain must call Main.
func (w *World) StartAggregatorChild(member string) *Child {
	w.T.Helper()
	logPath := filepath.Join(w.dir, "aggregator-"+member+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		w.T.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), ChildEnv+"=1",
		"USAGEPIPE_NATS_URL="+w.NATS.URL(), "USAGEPIPE_CATALOG="+w.CatalogPath, "USAGEPIPE_MEMBER_ID="+member,
		fmt.Sprintf("USAGEPIPE_PARTITIONS=%d", w.Partitions), "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
		"USAGEPIPE_COMMIT_INTERVAL=50ms", "USAGEPIPE_COMMIT_MESSAGES=20", "USAGEPIPE_SNAPSHOT_INTERVAL=1s",
		"USAGEPIPE_SNAPSHOT_EVENTS=200", "USAGEPIPE_HEARTBEAT=200ms", "USAGEPIPE_LEASE_TTL=1s",
		"USAGEPIPE_TICK_INTERVAL=200ms", "USAGEPIPE_LOG_LEVEL=WARN", "OTEL_SDK_DISABLED=true")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		w.T.Fatal(err)
	}
	c := &Child{Member: member, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	w.T.Cleanup(func() {
		c.Kill()
		if w.T.Failed() {
			b, _ := os.ReadFile(logPath)
			w.T.Logf("aggregator %s log:\n%s", member, bytes.TrimSpace(tail(b, 6000)))
		}
	})
	return c
}

// Kill SIGKILLs the process and waits until it is gone.
func (c *Child) Kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// Stop asks the process to stop (SIGTERM: it commits, releases its leases and leaves) and waits.
func (c *Child) Stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.done
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
