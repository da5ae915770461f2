package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// shippedBinaries are the commands released as binaries; none may link package testing (test helpers
// belong in …test packages such as natsembedtest and usageapitest, which only tests import).
var shippedBinaries = []string{"cmd/usagepipe", "cmd/ingest", "cmd/aggregator", "cmd/submitter"}

// TestShippedBinariesDoNotLinkTesting lists the dependencies of every command of the module with the go
// tool (the one running this test: go test puts its GOROOT/bin first on PATH) and fails for each shipped
// binary that links package testing.
func TestShippedBinariesDoNotLinkTesting(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list the binaries' dependencies: %v", err)
	}
	const module = "github.com/usagepipe/usagepipe/"
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"cmd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			deps[strings.TrimPrefix(fields[0], module)] = fields[1:]
		}
	}
	for _, bin := range shippedBinaries {
		d, ok := deps[bin]
		switch {
		case !ok:
			t.Errorf("%s: not listed by go list (renamed? update shippedBinaries)", bin)
		case slices.Contains(d, "testing"):
			t.Errorf("%s links package testing; find the importer with: go list -deps -f '{{.ImportPath}} {{.Imports}}' ./%s | grep -w testing", bin, bin)
		}
	}
}
