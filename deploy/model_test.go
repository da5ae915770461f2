// Package deploy holds no code, only the test of the deployment files: no Docker engine runs where the tests
// run, so compose.yaml, the Dockerfile and the collector and Prometheus configurations are parsed and checked
// against each other and against the binaries they run (built as the Dockerfile builds them).
package deploy

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of a Compose file the checks read. Long forms only: command, entrypoint and
// healthcheck test are lists, environment and depends_on are maps (a short form fails to decode).
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string                `yaml:"image"`
	User        string                `yaml:"user"`
	Build       any                   `yaml:"build"`
	Entrypoint  []string              `yaml:"entrypoint"`
	Command     []string              `yaml:"command"`
	Environment map[string]string     `yaml:"environment"`
	Ports       []string              `yaml:"ports"`
	Volumes     []string              `yaml:"volumes"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Healthcheck *healthcheck          `yaml:"healthcheck"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

// loadYAML decodes a file of this directory into v (YAML merge keys and anchors resolved).
func loadYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	loadYAML(t, "compose.yaml", &c)
	if len(c.Services) == 0 {
		t.Fatal("compose.yaml: no services")
	}
	return c
}

// interpolation matches ${NAME}, ${NAME:-default} and ${NAME-default}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}`)

// resolve applies Compose interpolation with an empty environment: what `docker compose up` does when the
// operator sets nothing.
func resolve(s string) string {
	return interpolation.ReplaceAllString(s, "$3")
}

// env returns the service's environment variable, interpolated ("" when unset).
func (s service) env(name string) string { return resolve(s.Environment[name]) }

// binary is what the container runs: "ingest", "aggregator", "submitter", or "usagepipe <command>" for the
// CLI; "" for third-party images.
func (s service) binary() string {
	if s.Build == nil || len(s.Entrypoint) == 0 {
		return ""
	}
	name := strings.TrimPrefix(s.Entrypoint[0], "/")
	if name == "usagepipe" && len(s.Entrypoint) > 1 {
		return name + " " + s.Entrypoint[1]
	}
	return name
}

// args are the command-line arguments after the binary (and its subcommand).
func (s service) args() []string {
	skip := 1
	if strings.HasPrefix(s.binary(), "usagepipe ") {
		skip = 2
	}
	return append(append([]string(nil), s.Entrypoint[skip:]...), s.Command...)
}

// flagValue returns the value of --name (or -name) in args, "--name value" or "--name=value".
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		n, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || n != name {
			continue
		}
		if hasValue {
			return v, true
		}
		if i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// port returns the port of host:port (or of a URL's host:port), "" when there is none.
func port(addr string) string {
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	addr, _, _ = strings.Cut(addr, "/")
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return p
}

// host returns the host of host:port or of a URL.
func host(addr string) string {
	if i := strings.Index(addr, "://"); i >= 0 {
		addr = addr[i+3:]
	}
	addr, _, _ = strings.Cut(addr, "/")
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
