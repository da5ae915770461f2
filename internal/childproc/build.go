package childproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module whose commands Build builds.
const modulePath = "github.com/usagepipe/usagepipe"

// The module's binaries a system needs, by file name.
const (
	BinIngest     = "ingest"
	BinAggregator = "aggregator"
	BinSubmitter  = "submitter"
	BinUsagepipe  = "usagepipe" // nats and emulator subcommands
)

// ErrMissingBinary is returned when a binary a system needs was not built (its command does not exist yet) or
// is not in the given directory.
var ErrMissingBinary = errors.New("childproc: missing binary")

// Build compiles every command of the module (go build -o dir/ ./cmd/...) from the module root found above
// the working directory, and checks that the binaries a system needs are there.
func Build(ctx context.Context, dir string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	gobin, err := goTool()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", dir+string(filepath.Separator), "./cmd/...")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("childproc: go build ./cmd/...: %w\n%s", err, bytes.TrimSpace(out.Bytes()))
	}
	return CheckBinaries(dir)
}

// CheckBinaries reports, in one error wrapping ErrMissingBinary, the binaries a system needs that dir lacks.
func CheckBinaries(dir string) error {
	var missing []string
	for _, name := range []string{BinIngest, BinAggregator, BinSubmitter, BinUsagepipe} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			missing = append(missing, name+" (cmd/"+name+")")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w in %s: %s", ErrMissingBinary, dir, strings.Join(missing, ", "))
	}
	return nil
}

// moduleRoot finds the directory of the go.mod declaring modulePath, from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("childproc: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declaresModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("childproc: not inside the %s module: run from its tree or give prebuilt binaries (--bin-dir)", modulePath)
		}
		dir = parent
	}
}

// declaresModule reports whether a go.mod's module directive names modulePath.
func declaresModule(gomod []byte) bool {
	for line := range bytes.Lines(gomod) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

// goTool finds the go command: on PATH, or in $GOROOT/bin.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("childproc: the go command is not on PATH: install Go or give prebuilt binaries (--bin-dir)")
}
