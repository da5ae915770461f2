package chaos

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// faultTally counts the faults the emulator injected, read from its log lines
// (msg="emulator fault" route=<route> fault=<kind>).
type faultTally struct {
	total   int
	byKind  map[string]int
	byRoute map[string]int
}

// readFaults tallies the faults logged in the emulator's log; a log it cannot read tallies nothing.
func readFaults(logPath string) faultTally {
	t := faultTally{byKind: map[string]int{}, byRoute: map[string]int{}}
	f, err := os.Open(logPath)
	if err != nil {
		return t
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="emulator fault"`) {
			continue
		}
		t.total++
		for _, field := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(field, "fault="); ok {
				t.byKind[v]++
			} else if v, ok := strings.CutPrefix(field, "route="); ok {
				t.byRoute[v]++
			}
		}
	}
	return t
}

// String is "218 (429 41, commit-drop 42, …; on files.create 18, …)".
func (t faultTally) String() string {
	if t.total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s; on %s)", t.total, tally(t.byKind), tally(t.byRoute))
}

func tally(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
