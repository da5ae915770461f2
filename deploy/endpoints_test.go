package deploy

import (
	"slices"
	"strings"
	"testing"
)

// addrFlag is the flag holding the HTTP listen address of each usagepipe binary (health, metrics, API). That
// the health checks and /metrics are really served there is TestEndpointsAnswerWhereComposeProbes's.
var addrFlag = map[string]string{
	roleIngest: "http-addr", roleAggregator: "metrics-addr", roleSubmitter: "metrics-addr", roleEmulator: "addr",
}

// moreAddrFlags are the other listen addresses of a usagepipe service: the submitter's operator API.
var moreAddrFlags = map[string][]string{roleSubmitter: {"operator-addr"}}

// exporterPort is where the NATS Prometheus exporter serves /metrics (its default -port).
const exporterPort = "7777"

// listenPort is the port a usagepipe service listens on, from its effective address flag.
func listenPort(t *testing.T, s service) string {
	return port(effective(t, s, addrFlag[role(s)]))
}

// healthPath is the path a service's healthcheck GETs ("" without one).
func healthPath(s service) string {
	if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
		return ""
	}
	return urlPath(s.Healthcheck.Test[len(s.Healthcheck.Test)-1])
}

// urlPath is the path of an http URL ("/" when it has none).
func urlPath(url string) string {
	_, rest, _ := strings.Cut(url, "://")
	_, p, _ := strings.Cut(rest, "/")
	return "/" + p
}

func TestHealthchecksProbeWhatTheServicesServe(t *testing.T) {
	c := loadCompose(t)
	if help := string(run(t, "usagepipe", "help")); !strings.Contains(help, "healthcheck") {
		t.Fatalf("usagepipe has no healthcheck command:\n%s", help)
	}
	for name, s := range c.Services {
		_, isUsagepipe := addrFlag[role(s)]
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
			if url := test[3]; port(url) != listenPort(t, s) || (host(url) != "localhost" && host(url) != "127.0.0.1") {
				t.Errorf("service %s: healthcheck GETs %s, but it listens on port %q", name, url, listenPort(t, s))
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
	for _, r := range append([]string{roleExporter}, workers...) {
		for _, name := range byRole(c, r) {
			if !scraped[name] {
				t.Errorf("Prometheus does not scrape %s", name)
			}
		}
	}
	exporters := map[string]bool{}
	for _, name := range byRole(c, roleExporter) {
		s := c.Services[name]
		exporters[host(s.Command[len(s.Command)-1])] = true
	}
	for _, node := range byRole(c, roleNATS) {
		if monitor, _ := flagValue(c.Services[node].Command, "m"); !exporters[node] || monitor == "" {
			t.Errorf("no NATS exporter reads %s's monitoring port (-m %q)", node, monitor)
		}
	}
}

// checkTarget: the target is a usagepipe service and the port is where it listens, or a NATS exporter.
func checkTarget(t *testing.T, c composeFile, job, path, name, targetPort string) {
	s, ok := c.Services[name]
	_, isUsagepipe := addrFlag[role(s)]
	switch {
	case !ok:
		t.Errorf("prometheus job %s: target %s is not a service", job, name)
	case role(s) == roleExporter:
		if targetPort != exporterPort || (path != "" && path != "/metrics") {
			t.Errorf("prometheus job %s: scrapes %s:%s%s, the exporter serves :%s/metrics", job, name, targetPort, path, exporterPort)
		}
	case !isUsagepipe || (path != "" && path != "/metrics"):
		t.Errorf("prometheus job %s: %s serves no Prometheus metrics at %q", job, name, path)
	case targetPort != listenPort(t, s):
		t.Errorf("prometheus job %s: scrapes %s:%s, but it serves /metrics on port %q", job, name, targetPort, listenPort(t, s))
	}
}

func TestPublishedPortsAreTheListenPorts(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if _, ok := addrFlag[role(s)]; !ok {
			continue
		}
		listens := []string{listenPort(t, s)}
		for _, f := range moreAddrFlags[role(s)] {
			listens = append(listens, port(effective(t, s, f)))
		}
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			if container := parts[len(parts)-1]; !slices.Contains(listens, container) {
				t.Errorf("service %s: publishes container port %s, but listens on %q", name, container, listens)
			}
		}
	}
}

// A submitter that sends to the emulator must find there the products and contracts of its catalog, the
// assets its events name, and its API key accepted.
func TestTheEmulatorKnowsWhatTheSubmitterSends(t *testing.T) {
	c := loadCompose(t)
	for _, name := range byRole(c, roleSubmitter) {
		sub := c.Services[name]
		connect := effective(t, sub, "connect-url")
		for _, emu := range byRole(c, roleEmulator) {
			if host(connect) != emu {
				continue
			}
			e := c.Services[emu]
			if catalog := effective(t, sub, "catalog"); effective(t, e, "events-catalog") != catalog {
				t.Errorf("%s: serves the products of --events-catalog %q, not of %s's catalog %q", emu,
					effective(t, e, "events-catalog"), name, catalog)
			}
			if !slices.Contains(e.args(), "--auto-assets") {
				t.Errorf("%s: without --auto-assets it rejects every record of an asset it does not know", emu)
			}
			if keys := flagValues(e.args(), "api-key"); len(keys) > 0 && !slices.Contains(keys, effective(t, sub, "connect-api-key")) {
				t.Errorf("%s: accepts API keys %v, not %s's", emu, keys, name)
			}
		}
	}
}

// flagValues returns every value of a repeatable --name flag.
func flagValues(args []string, name string) []string {
	var values []string
	for i := range args {
		if v, ok := flagValue(args[i:min(i+2, len(args))], name); ok {
			values = append(values, v)
		}
	}
	return values
}

// thirdPartyHealth is how each third-party service's image can be probed from inside: the tool its image
// has and the health endpoint of the product, or "" when the image has no tool at all (the collector's holds
// only its binary).
var thirdPartyHealth = map[string]string{
	roleJaeger:     "wget http://localhost:13133/status",
	rolePrometheus: "wget http://localhost:9090/-/healthy",
	roleGrafana:    "wget http://localhost:3000/api/health",
	roleCollector:  "",
	roleExporter:   "",
}

func TestThirdPartyServicesAreProbedWhereTheirImagesAllow(t *testing.T) {
	c := loadCompose(t)
	for r, want := range thirdPartyHealth {
		for _, name := range byRole(c, r) {
			s := c.Services[name]
			switch {
			case want == "" && s.Healthcheck != nil:
				t.Errorf("service %s: healthcheck %v, but its image has no command to run it", name, s.Healthcheck.Test)
			case want == "":
			case s.Healthcheck == nil:
				t.Errorf("service %s: no healthcheck, want %s", name, want)
			default:
				test := s.Healthcheck.Test
				tool, url, _ := strings.Cut(want, " ")
				if len(test) < 3 || test[0] != "CMD" || test[1] != tool || test[len(test)-1] != url {
					t.Errorf("service %s: healthcheck %v, want [CMD %s … %s]", name, test, tool, url)
				}
			}
		}
	}
}
