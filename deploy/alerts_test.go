package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// alertRules is the part of alerts.yaml the checks read.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleTests is the part of alerts_test.yaml the checks read.
type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name       string `yaml:"name"`
		AlertTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// runbookHeading is a second-level heading of docs/runbooks.md; GitHub's anchor of "## Name" is "#name".
var runbookHeading = regexp.MustCompile(`(?m)^## (\S+)$`)

// Every alert has a severity, a summary, a description and a runbook link to its own section of
// docs/runbooks.md; alerts_test.yaml fires each one and shows a moment where it does not fire.
func TestEveryAlertHasARunbookAndTests(t *testing.T) {
	var rules alertRules
	loadYAML(t, "alerts.yaml", &rules)
	var tests ruleTests
	loadYAML(t, "alerts_test.yaml", &tests)
	if len(tests.RuleFiles) != 1 || tests.RuleFiles[0] != "alerts.yaml" {
		t.Errorf("alerts_test.yaml tests %v, want [alerts.yaml]", tests.RuleFiles)
	}
	fires, quiet := map[string]int{}, map[string]int{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertTests {
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname]++
			} else {
				quiet[at.Alertname]++
			}
		}
	}
	runbooks := readRunbookAnchors(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			checkAlert(t, r.Alert, r.Labels, r.Annotations, runbooks)
			if fires[r.Alert] == 0 || quiet[r.Alert] == 0 {
				t.Errorf("%s: alerts_test.yaml fires it %d times and shows it quiet %d times; want both", r.Alert, fires[r.Alert], quiet[r.Alert])
			}
			delete(fires, r.Alert)
			delete(quiet, r.Alert)
		}
	}
	if n < 14 {
		t.Errorf("alerts.yaml has %d alerts, want the 14 of docs/runbooks.md", n)
	}
	for name := range fires {
		t.Errorf("alerts_test.yaml tests %s, which alerts.yaml does not define", name)
	}
}

func checkAlert(t *testing.T, name string, labels, annotations map[string]string, runbooks map[string]bool) {
	t.Helper()
	if s := labels["severity"]; s != "critical" && s != "warning" {
		t.Errorf("%s: severity %q, want critical or warning", name, s)
	}
	if annotations["summary"] == "" || annotations["description"] == "" {
		t.Errorf("%s: no summary or description", name)
	}
	url := annotations["runbook_url"]
	_, anchor, _ := strings.Cut(url, "docs/runbooks.md#")
	if anchor != strings.ToLower(name) || !runbooks[anchor] {
		t.Errorf("%s: runbook_url %q does not point at its section of docs/runbooks.md (## %s)", name, url, name)
	}
}

// readRunbookAnchors returns the anchors of the runbooks' sections.
func readRunbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range runbookHeading.FindAllStringSubmatch(string(b), -1) {
		anchors[strings.ToLower(m[1])] = true
	}
	return anchors
}

// promtool checks Prometheus's configuration (with the rules where compose mounts them) and the rules, and
// runs their unit tests. .ci/run installs it (Debian's prometheus package); a
// machine without it skips, CI (CI set) fails.
func TestPromtoolTestRulesPasses(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed: .ci/run installs Debian's prometheus package")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	alerts, err := filepath.Abs("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	config := strings.ReplaceAll(string(readFile(t, "prometheus.yml")), "/etc/prometheus/alerts.yaml", alerts)
	configPath := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "config", configPath}, {"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
