package deploy

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/config"
)

// Roles of the services, and how many of each the deployment runs.
const (
	roleNATS       = "nats"
	roleIngest     = "ingest"
	roleAggregator = "aggregator"
	roleSubmitter  = "submitter"
	roleEmulator   = "usagepipe emulator"
	roleCollector  = "otel-collector"
	roleJaeger     = "jaeger"
	rolePrometheus = "prometheus"
	roleExporter   = "nats exporter"
	roleGrafana    = "grafana"
)

var wantRoles = map[string]int{
	roleNATS: 3, roleExporter: 3, roleIngest: 2, roleAggregator: 2, roleSubmitter: 1, roleEmulator: 1,
	roleCollector: 1, roleJaeger: 1, rolePrometheus: 1, roleGrafana: 1,
}

// workers are the roles that connect to NATS.
var workers = []string{roleIngest, roleAggregator, roleSubmitter}

// role says what a service is: the usagepipe binary it runs, or the third-party image's product.
func role(s service) string {
	if b := s.binary(); b != "" {
		return b
	}
	image, _, _ := strings.Cut(s.Image, ":")
	switch {
	case image == "nats":
		return roleNATS
	case strings.Contains(image, "prometheus-nats-exporter"):
		return roleExporter
	case strings.Contains(image, "grafana"):
		return roleGrafana
	case strings.Contains(image, "opentelemetry-collector"):
		return roleCollector
	case strings.Contains(image, "jaeger"):
		return roleJaeger
	case strings.Contains(image, "prometheus"):
		return rolePrometheus
	}
	return s.Image
}

// byRole returns the names of the services of a role, sorted.
func byRole(c composeFile, r string) []string {
	var names []string
	for name, s := range c.Services {
		if role(s) == r {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func TestComposeRunsEveryServiceOfTheDeployment(t *testing.T) {
	c := loadCompose(t)
	for r, want := range wantRoles {
		if have := byRole(c, r); len(have) != want {
			t.Errorf("%s: want %d services, have %d %v", r, want, len(have), have)
		}
	}
	for name, s := range c.Services {
		if _, known := wantRoles[role(s)]; !known {
			t.Errorf("service %s (%s): not part of the deployment this test knows; add its role", name, role(s))
		}
		if b := s.binary(); b != "" && !slices.Contains(imageBinaries(t), strings.Fields(b)[0]) {
			t.Errorf("service %s: entrypoint %v is not a binary the Dockerfile builds %v", name, s.Entrypoint, imageBinaries(t))
		}
	}
}

func TestThirdPartyImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	version := regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?([.-][A-Za-z0-9.-]+)?$`)
	for name, s := range c.Services {
		if s.Build != nil {
			continue
		}
		image, tag, _ := strings.Cut(s.Image, ":")
		if strings.Contains(s.Image, "@sha256:") {
			continue
		}
		if !version.MatchString(tag) {
			t.Errorf("service %s: image %q is not pinned to a version tag", name, s.Image)
		}
		if image == "nats" && !strings.HasPrefix(tag, goModVersion(t, "github.com/nats-io/nats-server/v2")+"-") &&
			tag != goModVersion(t, "github.com/nats-io/nats-server/v2") {
			t.Errorf("service %s: %s differs from the nats-server the tests run (go.mod %s)", name, s.Image,
				goModVersion(t, "github.com/nats-io/nats-server/v2"))
		}
	}
}

// goModVersion is the version of module in go.mod, without its "v".
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == module {
			return strings.TrimPrefix(f[1], "v")
		}
	}
	t.Fatalf("go.mod does not require %s", module)
	return ""
}

func TestNATSIsAThreeNodeJetStreamClusterAndStreamsHaveThreeReplicas(t *testing.T) {
	c := loadCompose(t)
	nodes := byRole(c, roleNATS)
	clusterNames := map[string]bool{}
	for _, name := range nodes {
		s := c.Services[name]
		args := s.Command
		if !slices.Contains(args, "-js") && !slices.Contains(args, "--jetstream") {
			t.Errorf("%s: JetStream is not enabled (-js)", name)
		}
		cn, _ := flagValue(args, "cluster_name")
		clusterNames[cn] = true
		if store, _ := flagValue(args, "sd"); store == "" || !mountedVolume(s, store) {
			t.Errorf("%s: the JetStream store (-sd %q) is not on a volume", name, store)
		}
		routes, _ := flagValue(args, "routes")
		for _, other := range nodes {
			if other != name && !strings.Contains(routes, other+":") {
				t.Errorf("%s: --routes %q does not reach %s", name, routes, other)
			}
		}
	}
	if len(clusterNames) != 1 || clusterNames[""] {
		t.Errorf("the NATS nodes do not share one --cluster_name: %v", clusterNames)
	}
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			if replicas := effective(t, c.Services[name], "replicas"); replicas != "3" {
				t.Errorf("%s: streams and buckets get %s replicas, want 3 (USAGEPIPE_REPLICAS)", name, replicas)
			}
		}
	}
}

// mountedVolume reports whether dir is the target of one of the service's volumes.
func mountedVolume(s service, dir string) bool {
	return slices.ContainsFunc(s.Volumes, func(v string) bool {
		parts := strings.Split(v, ":")
		return len(parts) >= 2 && parts[1] == dir
	})
}

func TestWorkersAgreeOnPartitionsAndNATS(t *testing.T) {
	c := loadCompose(t)
	values := map[string]map[string]bool{"partitions": {}, "nats-url": {}}
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			for flag := range values {
				values[flag][effective(t, c.Services[name], flag)] = true
			}
		}
	}
	for flag, seen := range values {
		if len(seen) != 1 {
			t.Errorf("--%s differs between workers: %v (it must be the same everywhere)", flag, seen)
		}
	}
	for url := range values["nats-url"] {
		for _, node := range byRole(c, roleNATS) {
			if !strings.Contains(url, "//"+node+":4222") {
				t.Errorf("--nats-url %q does not list %s", url, node)
			}
		}
	}
}

// effective is the value a service's binary uses for a flag: the command line, else its USAGEPIPE_
// variable, else the flag's default.
func effective(t *testing.T, s service, flag string) string {
	t.Helper()
	if v, ok := flagValue(s.args(), flag); ok {
		return v
	}
	if v := s.env(config.EnvName(flag)); v != "" {
		return v
	}
	if path := s.env(config.SecretFileEnv(flag)); path != "" && binaryFlags(t, s.binary())[flag].secret {
		return strings.TrimRight(string(readFile(t, s.hostFile(t, path))), "\r\n")
	}
	return binaryFlags(t, s.binary())[flag].def
}

// hostFile is the file on the host that a path in the container is: a secret's file, else the image's copy.
func (s service) hostFile(t *testing.T, path string) string {
	t.Helper()
	if f, ok := s.Secrets[path]; ok {
		return f
	}
	if f, ok := imageFiles(t)[path]; ok {
		return f
	}
	t.Fatalf("%s is neither a secret of the service nor a file of the image", path)
	return ""
}

func TestEveryFlagAndVariableExistsInItsBinary(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.binary() == "" {
			continue
		}
		flags := binaryFlags(t, s.binary())
		if len(flags) == 0 {
			t.Errorf("service %s: %q -h lists no flags", name, s.binary())
			continue
		}
		for _, a := range s.args() {
			n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if _, ok := flags[n]; strings.HasPrefix(a, "-") && !ok {
				t.Errorf("service %s: %s has no flag %s", name, s.binary(), a)
			}
		}
		for v := range s.Environment {
			if strings.HasPrefix(v, config.EnvPrefix) && !slices.ContainsFunc(mapKeys(flags), envOf(v, flags)) {
				t.Errorf("service %s: %s has no flag read from %s", name, s.binary(), v)
			}
			if !strings.HasPrefix(v, config.EnvPrefix) && !knownOTel[v] {
				t.Errorf("service %s: %s is neither a USAGEPIPE_ variable nor an OTel variable telemetry reads", name, v)
			}
		}
	}
}

// knownOTel are the standard variables internal/telemetry and the OTel SDK read.
var knownOTel = map[string]bool{
	"OTEL_EXPORTER_OTLP_ENDPOINT": true, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": true,
	"OTEL_EXPORTER_OTLP_PROTOCOL": true, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": true,
	"OTEL_EXPORTER_OTLP_HEADERS": true, "OTEL_EXPORTER_OTLP_TIMEOUT": true, "OTEL_EXPORTER_OTLP_INSECURE": true,
	"OTEL_SERVICE_NAME": true, "OTEL_RESOURCE_ATTRIBUTES": true, "OTEL_SDK_DISABLED": true, "OTEL_TRACES_EXPORTER": true,
}

// envOf matches the flag read from variable v: its USAGEPIPE_ variable or, for a secret, its _FILE one.
func envOf(v string, flags map[string]flagSpec) func(string) bool {
	return func(flag string) bool {
		return config.EnvName(flag) == v || flags[flag].secret && config.SecretFileEnv(flag) == v
	}
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
