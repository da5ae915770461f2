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

// The emulator faults a run injects, each kind with an equal share of the fault rate: refusals (429, 500,
// 503), connections reset before serving and requests served whose answer is dropped on every route; and
// the answers a proxy garbles (empty, null and HTML 200s, a redirect), with and without serving the request
// first (commit-…), on the routes the submitter calls. The harness itself reads records to check the run,
// and a redirect is not retried: garbled answers there would fail its reads, not test the pipeline.
var (
	faultKinds   = []string{"429", "500", "503", "reset", "commit-drop"}
	garbledKinds = []string{"empty", "null", "html", "redirect", "commit-empty", "commit-null", "commit-html", "commit-redirect"}
	// submitterRoutes are the emulator routes the submitter calls.
	submitterRoutes = []string{"files.list", "files.create", "files.get", "files.upload", "files.submit", "files.delete", "downloads"}
)

// faultSpecs are the emulator's --fault values: every kind with probability rate/(all kinds), so that a
// request on a submitter's route meets a fault with probability rate.
func faultSpecs(rate float64) []string {
	if rate <= 0 {
		return nil
	}
	p := strconv.FormatFloat(rate/float64(len(faultKinds)+len(garbledKinds)), 'g', 6, 64)
	list := func(kinds []string) string {
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = k + "~" + p
		}
		return strings.Join(parts, ",")
	}
	specs := []string{"*=" + list(faultKinds)}
	for _, route := range submitterRoutes {
		specs = append(specs, route+"="+list(garbledKinds))
	}
	return specs
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
