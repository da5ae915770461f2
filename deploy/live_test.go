package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// imageFiles maps the files the Dockerfile copies into the final image to their source in the repository.
func imageFiles(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--") {
			src, _ := filepath.Abs(filepath.Join("..", f[1]))
			files[f[2]] = src
		}
	}
	return files
}

// launch is how a service of compose.yaml is run here: its arguments and environment as Compose gives them,
// files of the image replaced by their source, then the overrides as flags (which win over both).
type launch struct {
	binary string
	args   []string
	env    map[string]string
}

func newLaunch(t *testing.T, s service, overrides map[string]string) launch {
	t.Helper()
	files := imageFiles(t)
	inImage := func(v string) string {
		if src, ok := s.Secrets[v]; ok {
			return src
		}
		if src, ok := files[v]; ok {
			return src
		}
		return v
	}
	l := launch{binary: s.binary(), env: map[string]string{"OTEL_SDK_DISABLED": "true"}}
	for _, a := range s.args() {
		l.args = append(l.args, inImage(a))
	}
	for k := range s.Environment {
		if strings.HasPrefix(k, config.EnvPrefix) {
			l.env[k] = inImage(s.env(k))
		}
	}
	for flag, v := range overrides {
		l.args = append(l.args, "--"+flag+"="+v)
	}
	return l
}

// start runs the launch until ctx ends; the returned channel yields its error once it has stopped.
func (l launch) start(t *testing.T, ctx context.Context, extra ...string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	args := append(append([]string(nil), l.args...), extra...)
	if cmd := commands[l.binary]; cmd != nil {
		go func() { done <- cmd(ctx, args, func(k string) string { return l.env[k] }, &bytes.Buffer{}) }()
		return done
	}
	buildImage(t)
	name := strings.Fields(l.binary)
	c := exec.Command(filepath.Join(binDir, name[0]), append(name[1:], args...)...)
	for k, v := range l.env {
		c.Env = append(c.Env, k+"="+v)
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		_ = c.Process.Signal(os.Interrupt)
	}()
	go func() {
		err := c.Wait()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out.String())
		}
		done <- err
	}()
	return done
}

// Every usagepipe service's configuration in compose.yaml passes its binary's -validate: flags, variables,
// the catalog the image carries, URLs and limits.
func TestComposeConfigurationsValidate(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.binary() == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := <-newLaunch(t, s, nil).start(t, ctx, "-validate"); err != nil {
			t.Errorf("service %s: %s -validate: %v", name, s.binary(), err)
		}
		cancel()
	}
}

// Each kind of usagepipe service, started with its compose configuration (its secrets, its NATS credentials
// and CA; NATS, listen address and Connect URL pointed at local ones, one replica), answers 200 on the path its
// healthcheck probes and, when Prometheus scrapes it, on /metrics. The NATS server requires what compose's
// nodes require: TLS with their certificate and the nkey user they accept.
func TestEndpointsAnswerWhereComposeProbes(t *testing.T) {
	c := loadCompose(t)
	node := c.Services[byRole(c, roleNATS)[0]]
	nats, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), Host: "localhost",
		Auth: &natsembed.Auth{NKeys: []string{node.env(natsUserNKeyEnv)}},
		TLS:  &natsembed.TLS{CertFile: node.Secrets[secretsDir+"nats_server_cert"], KeyFile: node.Secrets[secretsDir+"nats_server_key"]}})
	if err != nil {
		t.Fatal(err)
	}
	defer nats.Shutdown()
	natsURL := strings.Replace(nats.URL(), "127.0.0.1", "localhost", 1) // the name the certificate holds
	ctx, cancel := context.WithCancel(context.Background())
	var running []<-chan error
	defer func() {
		cancel()
		for _, done := range running {
			if err := <-done; err != nil {
				t.Errorf("stopping: %v", err)
			}
		}
	}()
	emulatorURL := ""
	for _, r := range []string{roleEmulator, roleIngest, roleAggregator, roleSubmitter} {
		name := byRole(c, r)[0]
		s := c.Services[name]
		addr := freeAddr(t)
		overrides := map[string]string{addrFlag[r]: addr}
		if r == roleEmulator {
			overrides["state"] = filepath.Join(t.TempDir(), "emulator.json")
			emulatorURL = "http://" + addr + "/public/v1"
		} else {
			overrides["nats-url"], overrides["replicas"] = natsURL, "1"
		}
		if r == roleSubmitter {
			overrides["connect-url"] = emulatorURL
		}
		running = append(running, newLaunch(t, s, overrides).start(t, ctx))
		for _, path := range probedPaths(t, c, name) {
			waitOK(t, name, "http://"+addr+path)
		}
		if r == roleSubmitter { // the system view the alerts read (usagepipe_status_*) comes from the submitters
			waitMetric(t, name, "http://"+addr+"/metrics", "usagepipe_status_read_timestamp_seconds")
		}
	}
}

// waitMetric polls the /metrics at url until it holds a sample of metric.
func waitMetric(t *testing.T, name, url, metric string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for line := range strings.Lines(string(body)) {
				if strings.HasPrefix(line, metric+" ") || strings.HasPrefix(line, metric+"{") {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("service %s: %s never showed %s", name, url, metric)
}

// probedPaths are the paths compose and Prometheus GET on a service.
func probedPaths(t *testing.T, c composeFile, name string) []string {
	paths := []string{healthPath(c.Services[name])}
	var p prometheusConfig
	loadYAML(t, "prometheus.yml", &p)
	for _, job := range p.ScrapeConfigs {
		for _, sc := range job.StaticConfigs {
			for _, target := range sc.Targets {
				if host(target) == name {
					paths = append(paths, "/metrics")
				}
			}
		}
	}
	return paths
}

// waitOK polls url until it answers 200. A 4xx answer fails at once (the server is up and has no such
// endpoint); errors and 5xx (not ready yet) are retried until a deadline.
func waitOK(t *testing.T, name, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				return
			case resp.StatusCode < 500:
				t.Errorf("service %s: GET %s: %s", name, url, resp.Status)
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("service %s: GET %s never answered 200 (last: %s)", name, url, last)
}

var portMu sync.Mutex

// freeAddr is a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	portMu.Lock()
	defer portMu.Unlock()
	p, err := natsembed.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(p)
}
