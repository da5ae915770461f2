package aggregator

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// childEnvVar makes the test binary run the aggregator command instead of the tests (see TestMain).
const childEnvVar = "AGGREGATOR_TEST_CHILD"

// childPartMessagesVar sets the output messages per atomic batch of a child (split commits).
const childPartMessagesVar = "AGGREGATOR_TEST_PART_MESSAGES"

func TestMain(m *testing.M) {
	if os.Getenv(childEnvVar) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild is the aggregator command as a child process, configured only through USAGEPIPE_* variables.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if n, err := strconv.Atoi(os.Getenv(childPartMessagesVar)); err == nil && n > 0 {
		defaultPartMessages = n
	}
	if err := Run(ctx, nil, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "aggregator child:", err)
		return 1
	}
	return 0
}

// child is an aggregator worker running as a separate process (the test binary re-executed).
type child struct {
	member string
	cmd    *exec.Cmd
	done   chan struct{}
}

// startChild starts a worker process with the test's short intervals; its log goes to logPath. extraEnv
// (NAME=value) overrides them.
func (e *testEnv) startChild(member, logPath string, extraEnv ...string) *child {
	e.t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnvVar+"=1",
		"USAGEPIPE_NATS_URL="+e.srv.URL(), "USAGEPIPE_CATALOG="+e.catalogPath, "USAGEPIPE_MEMBER_ID="+member,
		fmt.Sprintf("USAGEPIPE_PARTITIONS=%d", e.partitions), "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
		"USAGEPIPE_COMMIT_INTERVAL=50ms", "USAGEPIPE_COMMIT_MESSAGES=20",
		"USAGEPIPE_SNAPSHOT_INTERVAL=1s", "USAGEPIPE_SNAPSHOT_EVENTS=200",
		"USAGEPIPE_HEARTBEAT=200ms", "USAGEPIPE_LEASE_TTL=1s", "USAGEPIPE_NO_TICKS=true", "USAGEPIPE_LOG_LEVEL=WARN",
		"OTEL_SDK_DISABLED=true")
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	c := &child{member: member, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	e.t.Cleanup(c.kill)
	return c
}

// kill SIGKILLs the process and waits until it is gone.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// exited reports whether the process ended on its own (it should not).
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// dumpLogOnFailure prints the tail of a child log if the test failed.
func dumpLogOnFailure(t *testing.T, logPath string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		b, _ := os.ReadFile(logPath)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		t.Logf("worker log tail (%s):\n%s", logPath, bytes.TrimSpace(b))
	})
}

// aggregatorStreams are the store directories the aggregators write; the reference run starts without them.
var aggregatorStreams = []string{"USAGE_AGG", "KV_usagepipe_agg_leases", "OBJ_usagepipe_agg_snapshots"}

// referenceOutputs stops env's server, copies its store without the aggregators' streams (so USAGE_EVENTS,
// with the very same sequences and timestamps, is the input), runs one in-process worker without any kill
// over the copy, and returns what it committed.
func referenceOutputs(t *testing.T, env *testEnv) outputs {
	t.Helper()
	env.srv.Shutdown()
	dir := t.TempDir()
	copyStore(t, env.srv.StoreDir(), dir)
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn := connect(t, srv.URL(), env.partitions)
	stop := startWorker(t, conn, env.testOptions("reference"))
	waitCaughtUp(t, conn, env.partitions, 90*time.Second)
	stop()
	return readOutputs(t, conn)
}

func copyStore(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if slices.Contains(aggregatorStreams, d.Name()) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
