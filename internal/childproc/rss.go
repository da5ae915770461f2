package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrNotRunning is returned by RSS while the process is down.
var ErrNotRunning = errors.New("childproc: not running")

// RSS is the resident set size of the running process in bytes, read from /proc/<pid>/status (VmRSS):
// Linux only.
func (p *Proc) RSS() (int64, error) {
	pid := p.Pid()
	if pid == 0 {
		return 0, fmt.Errorf("%w: %s", ErrNotRunning, p.spec.Name)
	}
	rss, err := ReadRSS(pid)
	if err != nil {
		return 0, fmt.Errorf("childproc: %s: %w", p.spec.Name, err)
	}
	return rss, nil
}

// ReadRSS reads the VmRSS line of /proc/<pid>/status, in bytes.
func ReadRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return parseKB(rest)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// parseKB parses "   123456 kB" into bytes.
func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("VmRSS %q: want <n> kB", strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("VmRSS %q: %w", strings.TrimSpace(s), err)
	}
	return n * 1024, nil
}
