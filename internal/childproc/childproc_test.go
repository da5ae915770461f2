package childproc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseKB(t *testing.T) {
	for in, want := range map[string]int64{"   123 kB": 123 * 1024, "\t0 kB": 0} {
		if have, err := parseKB(in); err != nil || have != want {
			t.Errorf("parseKB(%q) = %d, %v; want %d", in, have, err, want)
		}
	}
	for _, bad := range []string{"", "12", "12 MB", "x kB"} {
		if _, err := parseKB(bad); err == nil {
			t.Errorf("parseKB(%q): want an error", bad)
		}
	}
}

// TestProcRSSKillAndRestart runs a real child (sleep): its RSS is read from /proc while it runs, Kill stops
// it for good (no crash restart), and a process that exits by itself is restarted.
func TestProcRSSKillAndRestart(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	log := filepath.Join(t.TempDir(), "sleep.log")
	p := New(Spec{Name: "sleep-0", Kind: "sleep", Bin: sleep, Args: []string{"60"}, Env: CleanEnv(), LogPath: log})
	t.Cleanup(p.Close)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if rss, err := p.RSS(); err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if !p.Kill() || p.Running() {
		t.Fatal("Kill did not stop the process")
	}
	if _, err := p.RSS(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("RSS of a killed process: %v, want ErrNotRunning", err)
	}
	crash := New(Spec{Name: "true-0", Kind: "true", Bin: sleep, Args: []string{"0"}, Env: CleanEnv(), LogPath: log})
	t.Cleanup(crash.Close)
	if err := crash.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for crash.Stats().Starts < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("an exit nobody asked for was not restarted: %+v", crash.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(log)
	if err != nil || strings.Count(string(b), StartLine) < 3 {
		t.Errorf("log has %d start lines, want 3 or more:\n%s", strings.Count(string(b), StartLine), b)
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 14 (utime) and 15 (stime) are 250 and 50 ticks; the command name holds a space and a ')'.
	stat := "1234 (my) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000000 100"
	if have, err := parseStatCPU(stat); err != nil || have != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", have, err)
	}
	if _, err := parseStatCPU("1 (x) S 1"); err == nil {
		t.Error("a short stat line: want an error")
	}
	if cpu, err := ReadCPU(os.Getpid()); err != nil || cpu < 0 {
		t.Errorf("ReadCPU(self) = %v, %v", cpu, err)
	}
}
