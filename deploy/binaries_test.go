package deploy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/submitter"
)

// binDir holds the binaries built by buildImage for the whole test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usagepipe-deploy-test-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// dockerfileBuildLine returns the fields of the Dockerfile's `RUN go build` line.
func dockerfileBuildLine(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) >= 3 && fields[0] == "RUN" && strings.Contains(line, "go build") {
			return fields
		}
	}
	t.Fatal("Dockerfile: no RUN go build line")
	return nil
}

// dockerfileBuild returns the packages the Dockerfile's `go build` line builds ("./cmd/ingest", …).
func dockerfileBuild(t *testing.T) []string {
	t.Helper()
	var pkgs []string
	for _, f := range dockerfileBuildLine(t) {
		if strings.HasPrefix(f, "./cmd/") {
			pkgs = append(pkgs, f)
		}
	}
	return pkgs
}

// The build the test binaries are stamped with, as the Dockerfile's build arguments stamp an image's.
const (
	testRevision  = "0123456789abcdef0123456789abcdef01234567"
	testBuildTime = "2026-12-01T10:00:00Z"
)

// dockerfileStamps returns the Dockerfile's -X ldflags (internal/buildinfo's link-time values) with its
// build arguments replaced by testRevision and testBuildTime.
func dockerfileStamps(t *testing.T) string {
	t.Helper()
	args := strings.NewReplacer("${USAGEPIPE_REVISION}", testRevision, "${USAGEPIPE_BUILD_TIME}", testBuildTime)
	var stamps []string
	fields := dockerfileBuildLine(t)
	for i, f := range fields {
		if f == "-X" && i+1 < len(fields) {
			stamps = append(stamps, "-X", strings.Trim(args.Replace(fields[i+1]), `"`))
		}
	}
	if len(stamps) != 4 {
		t.Fatalf("Dockerfile's go build: -X flags %q, want the revision and the build time", stamps)
	}
	return strings.Join(stamps, " ")
}

var (
	buildOnce sync.Once
	buildOut  []byte
	buildErr  error
)

// commands are the binaries whose main is a thin wrapper over their package's Run (cmd/ingest over
// ingest.Run, …): their -h is asked in process. The others (the usagepipe CLI) are built.
var commands = map[string]func(context.Context, []string, func(string) string, io.Writer) error{
	"ingest": ingest.Run, "aggregator": aggregator.Run, "submitter": submitter.Run,
}

// buildImage builds, once, the binaries of the image into binDir, stamped as the Dockerfile stamps them
// (dockerfileStamps). It builds with the test's own settings otherwise, not the image's static, trimmed ones:
// the flags are the same and the build cache of the tests is reused.
func buildImage(t *testing.T) {
	t.Helper()
	pkgs, stamps := dockerfileBuild(t), dockerfileStamps(t)
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// -buildvcs=false: the image's build context has no .git (.dockerignore), so the toolchain stamps no
		// commit there and the Dockerfile's link-time values are what --version prints; a build inside a git
		// checkout would print the checkout's commit instead.
		args := append([]string{"build", "-buildvcs=false", "-ldflags=" + stamps, "-o", binDir + "/"}, pkgs...)
		cmd := exec.CommandContext(ctx, goTool(), args...)
		cmd.Dir = ".."
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building %v: %v\n%s", pkgs, buildErr, buildOut)
	}
}

// goTool is the go command of the toolchain running the test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go" // the build then fails saying that it is not found
}

// flagSpec is a flag a binary declares, its default and whether it is a secret, as its -h prints them.
type flagSpec struct {
	def    string
	secret bool
}

var (
	flagsMu    sync.Mutex
	flagsCache = map[string]map[string]flagSpec{}
)

// usageLine is a flag line of Go's flag usage: "  -name type".
var (
	usageLine   = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9._-]*)`)
	defaultText = regexp.MustCompile(`\(default "?(.*?)"?\)$`)
)

// binaryFlags runs "<binary> -h" (binary as service.binary names it) and returns the flags it declares.
func binaryFlags(t *testing.T, binary string) map[string]flagSpec {
	t.Helper()
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if f, ok := flagsCache[binary]; ok {
		return f
	}
	out := run(t, append(strings.Fields(binary), "-h")...)
	flags := map[string]flagSpec{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := usageLine.FindStringSubmatch(sc.Text()); m != nil {
			last = m[1]
			flags[last] = flagSpec{}
		} else if last != "" {
			spec := flags[last]
			if m := defaultText.FindStringSubmatch(sc.Text()); m != nil {
				spec.def = m[1]
			}
			spec.secret = spec.secret || strings.Contains(sc.Text(), "(secret; prefer ")
			flags[last] = spec
		}
	}
	flagsCache[binary] = flags
	return flags
}

// run runs a binary of the image (first argument: its name) with an empty environment and returns its
// combined output, whatever its exit status (-h of a command that is not implemented prints nothing useful:
// the checks then report its flags missing).
func run(t *testing.T, args ...string) []byte {
	t.Helper()
	if cmd := commands[args[0]]; cmd != nil {
		var out bytes.Buffer
		_ = cmd(context.Background(), args[1:], func(string) string { return "" }, &out)
		return out.Bytes()
	}
	buildImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, args[0]), args[1:]...)
	cmd.Env = []string{} // flags' USAGEPIPE_* fallbacks must not leak into the defaults
	out, _ := cmd.CombinedOutput()
	return out
}

// imageBinaries are the names of the binaries in the image (/ingest, /usagepipe, …).
func imageBinaries(t *testing.T) []string {
	var names []string
	for _, p := range dockerfileBuild(t) {
		names = append(names, filepath.Base(p))
	}
	return names
}
