package chaos

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// faultKinds are the emulator faults a run injects on every Connect route, each with an equal share of the
// fault rate: refusals (429, 500, 503), connections reset before serving, requests served whose answer is
// dropped, and the answers a proxy garbles (empty, null and HTML 200s, a redirect), with and without
// serving the request first (commit-…).
var faultKinds = []string{"429", "500", "503", "reset", "commit-drop",
	"empty", "null", "html", "redirect", "commit-empty", "commit-null", "commit-html", "commit-redirect"}

// faultSpec is the emulator's --fault value for every route: each kind with probability rate/len(kinds).
func faultSpec(rate float64) string {
	if rate <= 0 {
		return ""
	}
	parts := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		parts[i] = k + "~" + strconv.FormatFloat(rate/float64(len(faultKinds)), 'g', 6, 64)
	}
	return "*=" + strings.Join(parts, ",")
}

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
