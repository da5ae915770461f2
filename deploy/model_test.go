// Package deploy holds no code, only the test of the deployment files: no Docker engine runs where the tests
// run, so compose.yaml (loaded by the real Compose loader), the Dockerfile, the NATS, collector and Prometheus
// configurations, the alerting rules and the dashboard are checked against each other and against the binaries
// they run (built as the Dockerfile builds them), and run where they can be (the NATS configuration by the
// nats-server library, the rules by promtool, the services with their compose settings).
package deploy

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// composeFile is the part of a Compose project the checks read, as the real Compose loader
// (github.com/compose-spec/compose-go/v2, the library docker compose uses) builds it from compose.yaml:
// interpolated with an empty environment, anchors, merge keys and defaults applied, paths resolved.
type composeFile struct {
	Name     string
	Services map[string]service
	Volumes  map[string]any
	Secrets  map[string]string // secret name → file on the host
}

type service struct {
	Image       string
	User        string
	Build       any // non-nil when the service is built
	Entrypoint  []string
	Command     []string
	Environment map[string]string
	Ports       []string          // "published:target"
	Volumes     []string          // "source:target" (source relative to deploy/ for bind mounts)
	Secrets     map[string]string // mount path in the container (/run/secrets/<name>) → file on the host
	DependsOn   map[string]dependency
	Healthcheck *healthcheck
}

type dependency struct {
	Condition string
}

type healthcheck struct {
	Test []string
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

// secretsDir is where Compose mounts a service's secrets.
const secretsDir = "/run/secrets/"

// loadProject loads compose.yaml with the Compose loader, as `docker compose up` does when the operator sets
// no variable.
func loadProject(t *testing.T) *types.Project {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: dir, ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}},
		Environment: types.Mapping{},
	})
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	p := loadProject(t)
	dir, _ := filepath.Abs(".")
	c := composeFile{Name: p.Name, Services: map[string]service{}, Volumes: map[string]any{}, Secrets: map[string]string{}}
	for name, sc := range p.Secrets {
		c.Secrets[name] = sc.File
	}
	for name, s := range p.Services {
		c.Services[name] = fromCompose(s, dir, c.Secrets)
	}
	for name, v := range p.Volumes {
		c.Volumes[name] = v
	}
	if len(c.Services) == 0 {
		t.Fatal("compose.yaml: no services")
	}
	return c
}

// fromCompose is the checks' view of a loaded service; secrets are the project's (name → file).
func fromCompose(s types.ServiceConfig, dir string, secrets map[string]string) service {
	v := service{Image: s.Image, User: s.User, Entrypoint: s.Entrypoint, Command: s.Command,
		Environment: map[string]string{}, DependsOn: map[string]dependency{}, Secrets: map[string]string{}}
	if s.Build != nil {
		v.Build = s.Build
	}
	for k, val := range s.Environment {
		if val != nil {
			v.Environment[k] = *val
		}
	}
	for _, p := range s.Ports {
		v.Ports = append(v.Ports, p.Published+":"+strconv.Itoa(int(p.Target)))
	}
	for _, vol := range s.Volumes {
		src := vol.Source
		if rel, err := filepath.Rel(dir, src); err == nil && vol.Type == types.VolumeTypeBind {
			src = "./" + rel
		}
		v.Volumes = append(v.Volumes, src+":"+vol.Target)
	}
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = secretsDir + target
		}
		v.Secrets[target] = secrets[sec.Source]
	}
	for dep, d := range s.DependsOn {
		v.DependsOn[dep] = dependency{Condition: d.Condition}
	}
	if s.HealthCheck != nil && !s.HealthCheck.Disable {
		v.Healthcheck = &healthcheck{Test: s.HealthCheck.Test}
	}
	return v
}

// env returns the service's environment variable ("" when unset).
func (s service) env(name string) string { return s.Environment[name] }

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
