package main

import (
	"bufio"
	"context"
	"fmt"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/parked"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// childVar makes the test binary run `usagepipe <its arguments>` instead of the tests (see TestMain).
const childVar = "USAGEPIPE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "" {
		crashAt(os.Getenv(crashVar))
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "usagepipe child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashVar names, for a child, a step of an operator's action (internal/deadletter's and internal/parked's
// StepHook) at which the child SIGKILLs itself: a crash at exactly that point.
const crashVar = "USAGEPIPE_TEST_CRASH_AT"

// crashAt makes the process SIGKILL itself when an operator's action reaches step ("" : never).
func crashAt(step string) {
	if step == "" {
		return
	}
	kill := func(name, _ string) {
		if name == step {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way: nothing after this step runs
		}
	}
	deadletter.StepHook, parked.StepHook = kill, kill
}

// child is `usagepipe <args>` run as a separate process (the test binary re-executed).
type child struct {
	cmd  *exec.Cmd
	out  *bufio.Reader
	done chan struct{}
}

// startChild starts `usagepipe args…` and kills it at the end of the test.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childVar+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(out), done: make(chan struct{})}
	t.Cleanup(c.kill)
	return c
}

// waitLine reads the child's output until a line holding want, and returns that line.
func (c *child) waitLine(t *testing.T, want string) string {
	t.Helper()
	for {
		line, err := c.out.ReadString('\n')
		if strings.Contains(line, want) {
			return line
		}
		if err != nil {
			t.Fatalf("child ended its output (%v) before a line with %q", err, want)
		}
	}
}

// kill SIGKILLs the child and waits until it is reaped.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = io.Copy(io.Discard, c.out)
	_ = c.cmd.Wait()
	close(c.done)
}
