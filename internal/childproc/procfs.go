package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
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

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTicks = 100

// ReadCPU reads the CPU time (user + system) a process has used so far from /proc/<pid>/stat.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line. The command name
// (field 2) is in parentheses and may hold spaces: fields are counted after its closing one.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("stat %.80q: too short", stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat %.80q: %w", stat, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
