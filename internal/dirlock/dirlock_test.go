package dirlock_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/usagepipe/usagepipe/internal/dirlock"
)

// childDirVar makes the test binary lock the directory it names and wait to be killed (see TestMain).
const childDirVar = "DIRLOCK_TEST_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirVar); dir != "" {
		if _, err := dirlock.Acquire(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {} // hold the lock until killed
	}
	os.Exit(m.Run())
}

func TestSecondAcquireIsRefusedAndNamesTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dirlock.Acquire(dir)
	var held *dirlock.HeldError
	if !errors.Is(err, dirlock.ErrHeld) || !errors.As(err, &held) {
		t.Fatalf("second Acquire: want a HeldError, have %v", err)
	}
	want := []string{"pid " + strconv.Itoa(os.Getpid()), filepath.Join(dir, dirlock.FileName)}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	again, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	again.Release()
}

// TestKilledHolderNeverBlocks: a process SIGKILLed while it holds the lock leaves its lock file behind, and
// the lock can be taken at once.
func TestKilledHolderNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childDirVar+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = dirlock.Acquire(dir)
	if !errors.Is(err, dirlock.ErrHeld) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)+" ") {
		t.Fatalf("while the child holds it: want a refusal naming pid %d, have %v", cmd.Process.Pid, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, dirlock.FileName)); err != nil {
		t.Fatalf("the lock file is gone: %v", err)
	}
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}

func TestUnreadableHolderStillRefuses(t *testing.T) {
	dir := t.TempDir()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := os.WriteFile(l.Path(), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = dirlock.Acquire(dir)
	if !errors.Is(err, dirlock.ErrHeld) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("want a refusal by another process, have %v", err)
	}
}
