package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dashboardPath is the usagepipe dashboard, provisioned by compose's Grafana.
const dashboardPath = "grafana/dashboards/usagepipe.json"

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readFile(t, dashboardPath), &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	return d
}

// dashboardExprs are the PromQL expressions of the dashboard's panels.
func dashboardExprs(t *testing.T) []string {
	var exprs []string
	for _, p := range loadDashboard(t).Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// grafanaProvisioning is the part of Grafana's provisioning files the checks read.
type grafanaProvisioning struct {
	Datasources []struct {
		UID  string `yaml:"uid"`
		Type string `yaml:"type"`
		URL  string `yaml:"url"`
	} `yaml:"datasources"`
	Providers []struct {
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// Compose's Grafana provisions the dashboard: the provisioning directory is mounted where Grafana reads it,
// the dashboard provider reads the directory the dashboards are mounted at, the data source is compose's
// Prometheus (service and port), and every panel queries that data source.
func TestGrafanaProvisionsTheDashboard(t *testing.T) {
	c := loadCompose(t)
	grafana := c.Services[byRole(c, roleGrafana)[0]]
	mounts := map[string]string{}
	for _, v := range grafana.Volumes {
		parts := strings.Split(v, ":")
		mounts[parts[0]] = parts[1]
	}
	if mounts["./grafana/provisioning"] != "/etc/grafana/provisioning" {
		t.Errorf("grafana mounts %v: the provisioning directory must be at /etc/grafana/provisioning", mounts)
	}
	var ds, dash grafanaProvisioning
	loadYAML(t, "grafana/provisioning/datasources/prometheus.yaml", &ds)
	loadYAML(t, "grafana/provisioning/dashboards/usagepipe.yaml", &dash)
	if len(dash.Providers) != 1 || dash.Providers[0].Type != "file" || dash.Providers[0].Options.Path != mounts["./grafana/dashboards"] {
		t.Errorf("dashboard provider %+v does not read the dashboards' mount %q", dash.Providers, mounts["./grafana/dashboards"])
	}
	prom := byRole(c, rolePrometheus)[0]
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || host(ds.Datasources[0].URL) != prom ||
		port(ds.Datasources[0].URL) != "9090" {
		t.Fatalf("data sources %+v: want compose's %s on 9090", ds.Datasources, prom)
	}
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || len(d.Panels) < 10 {
		t.Errorf("dashboard uid %q title %q with %d panels", d.UID, d.Title, len(d.Panels))
	}
	for _, p := range d.Panels {
		checkPanel(t, p, ds.Datasources[0].UID)
	}
}

func checkPanel(t *testing.T, p panel, datasource string) {
	t.Helper()
	if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 {
		t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, p.GridPos)
	}
	if p.Type == "row" {
		return
	}
	if p.Datasource == nil || p.Datasource.UID != datasource || len(p.Targets) == 0 {
		t.Errorf("panel %q: data source %+v, %d queries; want the provisioned %q", p.Title, p.Datasource, len(p.Targets), datasource)
	}
	for _, tg := range p.Targets {
		if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
			t.Errorf("panel %q: a query without expression or refId", p.Title)
		}
	}
}

// Every expression of the dashboard is valid PromQL: promtool checks them as recording rules (skipped, or
// failed under CI, like TestPromtoolTestRulesPasses, when promtool is missing).
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed: .ci/run installs Debian's prometheus package")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, e := range dashboardExprs(t) {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard_query_%d", i), Expr: e})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules (the dashboard's queries): %v\n%s", err, out)
	}
	if !slices.ContainsFunc(dashboardExprs(t), func(e string) bool { return strings.Contains(e, "usagepipe_build_info") }) {
		t.Error("the dashboard does not show the versions running (usagepipe_build_info)")
	}
}
