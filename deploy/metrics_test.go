package deploy

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/usagepipe/usagepipe/internal/devstack"
)

// metricName is a metric an expression names: usagepipe's own and the NATS exporter's.
var metricName = regexp.MustCompile(`\b(?:usagepipe|gnatsd)_[a-z0-9_]+\b`)

// namedMetrics are the metrics the alerts and the dashboard name, each with where it is named.
func namedMetrics(t *testing.T) map[string]string {
	var rules alertRules
	loadYAML(t, "alerts.yaml", &rules)
	named := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, m := range metricName.FindAllString(r.Expr, -1) {
				named[m] = "alert " + r.Alert
			}
		}
	}
	for _, e := range dashboardExprs(t) {
		for _, m := range metricName.FindAllString(e, -1) {
			named[m] = "dashboard query " + e
		}
	}
	return named
}

// exporterMetrics are the NATS exporter's metrics that do not come from /varz, with where its source names
// them (github.com/nats-io/prometheus-nats-exporter, collector/healthz.go: BuildFQName("gnatsd", "healthz",
// "status_value")): the exporter is a third-party image the tests cannot run.
var exporterMetrics = map[string]bool{"gnatsd_healthz_status_value": true}

// Every metric the alerts and the dashboard name exists: usagepipe's in the /metrics of a running stack
// (usagepipe dev in process, with simulated traffic until a usage file is accepted, so that labelled series and
// histograms have samples), the NATS exporter's /varz metrics among the numbers a real nats-server's /varz
// holds (the exporter makes gnatsd_varz_<field> of each).
func TestAlertsAndDashboardNameOnlyMetricsThatExist(t *testing.T) {
	named := namedMetrics(t)
	if len(named) < 30 {
		t.Fatalf("the alerts and the dashboard name %d metrics: %v", len(named), slices.Sorted(maps.Keys(named)))
	}
	varz := varzFields(t)
	var want []string
	for m := range named {
		switch {
		case strings.HasPrefix(m, "gnatsd_varz_"):
			if !varz[strings.TrimPrefix(m, "gnatsd_varz_")] {
				t.Errorf("%s (%s): /varz has no number %q", m, named[m], strings.TrimPrefix(m, "gnatsd_varz_"))
			}
		case strings.HasPrefix(m, "gnatsd_"):
			if !exporterMetrics[m] {
				t.Errorf("%s (%s): not a metric of the NATS exporter this test knows", m, named[m])
			}
		default:
			want = append(want, m)
		}
	}
	st := startDev(t)
	var missing []string
	deadline := time.Now().Add(120 * time.Second)
	for {
		have := scrapeDev(t, st)
		missing = slices.DeleteFunc(slices.Clone(want), func(m string) bool { return have[m] })
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, m := range missing {
		t.Errorf("%s (%s) is on no /metrics of the running stack", m, named[m])
	}
}

// startDev starts usagepipe dev in process with fast periods and simulated traffic.
func startDev(t *testing.T) *devstack.Stack {
	t.Helper()
	c, err := devstack.SampleCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithFixedPeriods(5*time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(context.Background(), devstack.Options{
		DataDir: t.TempDir(), Catalogs: c, Partitions: 2, Simulate: true, SimulateEvery: 200 * time.Millisecond,
		IngestAddr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", NATSAddr: "127.0.0.1:0",
		OperatorAddr: "127.0.0.1:0", ConsoleAddr: "127.0.0.1:0", ProcessingTime: -1, AcceptAfter: -1, LogOutput: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return st
}

// scrapeDev returns the names of the samples every worker's /metrics holds now (histograms' _bucket, _sum and
// _count included).
func scrapeDev(t *testing.T, st *devstack.Stack) map[string]bool {
	t.Helper()
	have := map[string]bool{}
	for _, w := range []string{devstack.ServiceIngest, devstack.ServiceAggregator, devstack.ServiceSubmitter} {
		resp, err := http.Get(st.URLs().Metrics + "/metrics/" + w)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for line := range strings.Lines(string(body)) {
			if name, _, _ := strings.Cut(strings.TrimSpace(line), " "); name != "" && !strings.HasPrefix(name, "#") {
				name, _, _ = strings.Cut(name, "{")
				have[name] = true
			}
		}
	}
	return have
}

// varzFields are the numeric fields of a real nats-server's /varz (JetStream on, the nats-server of go.mod,
// which compose's image matches), nested ones joined with "_" as the exporter names them.
func varzFields(t *testing.T) map[string]bool {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, HTTPHost: "127.0.0.1", HTTPPort: -1,
		JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	resp, err := http.Get("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.MonitorAddr().Port)) + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var varz map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&varz); err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	flattenNumbers(varz, "", fields)
	return fields
}

func flattenNumbers(m map[string]any, prefix string, out map[string]bool) {
	for k, v := range m {
		switch v := v.(type) {
		case float64:
			out[prefix+k] = true
		case map[string]any:
			flattenNumbers(v, prefix+k+"_", out)
		}
	}
}
