package deploy

import (
	"slices"
	"strings"
	"testing"
)

// endpoint says where a usagepipe binary listens and what it serves there: the flag of the listen address,
// its health paths and whether /metrics is served on it (the binaries' documented endpoints).
type endpoint struct {
	addrFlag string
	health   []string
	metrics  bool
}

var serves = map[string]endpoint{
	roleIngest:     {addrFlag: "http-addr", health: []string{"/healthz", "/readyz"}, metrics: true},
	roleAggregator: {addrFlag: "metrics-addr", health: []string{"/healthz"}, metrics: true},
	roleSubmitter:  {addrFlag: "metrics-addr", health: []string{"/healthz"}, metrics: true},
	roleEmulator:   {addrFlag: "addr", health: []string{"/healthz"}, metrics: true},
}

// listenPort is the port a usagepipe service listens on, from its effective address flag.
func listenPort(t *testing.T, s service) string {
	return port(effective(t, s, serves[role(s)].addrFlag))
}

func TestHealthchecksProbeWhatTheServicesServe(t *testing.T) {
	c := loadCompose(t)
	if help := string(run(t, "usagepipe", "help")); !strings.Contains(help, "healthcheck") {
		t.Fatalf("usagepipe has no healthcheck command:\n%s", help)
	}
	for name, s := range c.Services {
		ep, isUsagepipe := serves[role(s)]
		switch {
		case role(s) == roleNATS:
			checkNATSHealth(t, name, s)
		case !isUsagepipe:
		case s.Healthcheck == nil:
			t.Errorf("service %s: no healthcheck", name)
		default:
			test := s.Healthcheck.Test
			if len(test) != 4 || test[0] != "CMD" || test[1] != "/usagepipe" || test[2] != "healthcheck" {
				t.Errorf("service %s: healthcheck %v: want [CMD /usagepipe healthcheck URL] (the image has no shell)", name, test)
				continue
			}
			url := test[3]
			path := "/" + strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[1]
			if port(url) != listenPort(t, s) || !slices.Contains(ep.health, path) {
				t.Errorf("service %s: healthcheck GETs %s, but it serves %v on port %q", name, url, ep.health, listenPort(t, s))
			}
		}
	}
}

// checkNATSHealth: the node's healthcheck probes its monitoring port for JetStream health.
func checkNATSHealth(t *testing.T, name string, s service) {
	monitor, _ := flagValue(s.Command, "m")
	if s.Healthcheck == nil || monitor == "" {
		t.Errorf("%s: want a healthcheck on the monitoring port (-m), have %v, -m %q", name, s.Healthcheck, monitor)
		return
	}
	probe := strings.Join(s.Healthcheck.Test, " ")
	if !strings.Contains(probe, ":"+monitor+"/healthz") {
		t.Errorf("%s: healthcheck %q does not probe /healthz on the monitoring port %s", name, probe, monitor)
	}
}

func TestServicesStartOnlyOnceWhatTheyNeedIsHealthy(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("service %s: depends on unknown service %s", name, dep)
			case !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, d.Condition):
				t.Errorf("service %s: depends on %s with unknown condition %q", name, dep, d.Condition)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("service %s: waits for %s to be healthy, but %s has no healthcheck (compose up would fail)", name, dep, dep)
			}
		}
	}
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			for _, node := range byRole(c, roleNATS) {
				if c.Services[name].DependsOn[node].Condition != "service_healthy" {
					t.Errorf("%s: does not wait for %s to be healthy", name, node)
				}
			}
		}
	}
	for _, name := range byRole(c, roleSubmitter) {
		connect := effective(t, c.Services[name], "connect-url")
		for _, emu := range byRole(c, roleEmulator) {
			if host(connect) == emu && c.Services[name].DependsOn[emu].Condition != "service_healthy" {
				t.Errorf("%s: sends to %s (%s) but does not wait for it to be healthy", name, emu, connect)
			}
			if host(connect) == emu && port(connect) != listenPort(t, c.Services[emu]) {
				t.Errorf("%s: --connect-url %s, but %s listens on port %q", name, connect, emu, listenPort(t, c.Services[emu]))
			}
		}
	}
}

// prometheusConfig is the part of prometheus.yml the checks read.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusScrapesEveryWorkerWhereItServesMetrics(t *testing.T) {
	c := loadCompose(t)
	var p prometheusConfig
	loadYAML(t, "prometheus.yml", &p)
	scraped := map[string]bool{}
	for _, job := range p.ScrapeConfigs {
		for _, sc := range job.StaticConfigs {
			for _, target := range sc.Targets {
				name := host(target)
				scraped[name] = true
				checkTarget(t, c, job.JobName, job.MetricsPath, name, port(target))
			}
		}
	}
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			if !scraped[name] {
				t.Errorf("Prometheus does not scrape %s", name)
			}
		}
	}
}

// checkTarget: the target is a usagepipe service serving /metrics on that port.
func checkTarget(t *testing.T, c composeFile, job, path, name, targetPort string) {
	s, ok := c.Services[name]
	ep, isUsagepipe := serves[role(s)]
	switch {
	case !ok:
		t.Errorf("prometheus job %s: target %s is not a service", job, name)
	case !isUsagepipe || !ep.metrics || (path != "" && path != "/metrics"):
		t.Errorf("prometheus job %s: %s serves no Prometheus metrics at %q", job, name, path)
	case targetPort != listenPort(t, s):
		t.Errorf("prometheus job %s: scrapes %s:%s, but it serves /metrics on port %q", job, name, targetPort, listenPort(t, s))
	}
}

func TestPublishedPortsAreTheListenPorts(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if _, ok := serves[role(s)]; !ok {
			continue
		}
		for _, p := range s.Ports {
			parts := strings.Split(resolve(p), ":")
			if container := parts[len(parts)-1]; container != listenPort(t, s) {
				t.Errorf("service %s: publishes container port %s, but listens on %q", name, container, listenPort(t, s))
			}
		}
	}
}
