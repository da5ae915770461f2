package deploy

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every binary of the image, and the usagepipe commands that run services, print the build the Dockerfile
// stamps them with on --version (the commit and its time) and exit 0 without starting anything.
func TestEveryBinaryPrintsItsVersion(t *testing.T) {
	buildImage(t)
	want := " commit " + testRevision + " time " + testBuildTime + " go"
	cases := [][]string{{"usagepipe", "--version"}, {"usagepipe", "version"}, {"usagepipe", "dev", "--version"},
		{"usagepipe", "emulator", "--version"}, {"usagepipe", "nats", "-version"}}
	for _, name := range imageBinaries(t) {
		if name != "usagepipe" {
			cases = append(cases, []string{name, "--version"})
		}
	}
	for _, args := range cases {
		out, err := runBuilt(args...)
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		name := args[0]
		if args[1] != "--version" && args[1] != "version" {
			name = args[1]
		}
		line := strings.TrimSpace(string(out))
		if !strings.HasPrefix(line, name+" version ") || !strings.Contains(line, want) || strings.Contains(line, "\n") {
			t.Errorf("%s printed %q, want one line %q…%q…", strings.Join(args, " "), line, name+" version ", want)
		}
	}
}

// runBuilt runs a binary buildImage built, with an empty environment, and returns its combined output and
// its exit error.
func runBuilt(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, args[0]), args[1:]...)
	cmd.Env = []string{}
	return cmd.CombinedOutput()
}
