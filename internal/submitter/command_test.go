package submitter

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), []string{"-validate", "--concurrency", "-1", "--lease-ttl", "8m"}, func(string) string { return "" }, &out)
	if err == nil {
		t.Fatal("an empty configuration validated")
	}
	for _, want := range []string{"--catalog is required", "--connect-url is required", "--connect-api-key is required", "concurrency -1",
		"half of USAGE_DLQ's duplicate window"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestValidateFromEnvironmentHidesTheAPIKey(t *testing.T) {
	catalog := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(catalog, []byte(testCatalogYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"USAGEPIPE_CATALOG": catalog, "USAGEPIPE_CONNECT_URL": "http://127.0.0.1:1/public/v1",
		"USAGEPIPE_CONNECT_API_KEY": "SU-123-456-789:very-secret", "USAGEPIPE_MAX_RECORDS_PER_FILE": "5000",
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-validate"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("valid configuration refused: %v\n%s", err, out.String())
	}
	text := out.String()
	if strings.Contains(text, "very-secret") || !strings.Contains(text, "configuration ok") ||
		!strings.Contains(text, `--max-records-per-file="5000" (env)`) {
		t.Errorf("validate output:\n%s", text)
	}
}

// TestValidateWarnsAboutTheSchedule: a catalog whose reservation items are on monthly periods is valid, and
// -validate prints the scheduling advice it goes against; Run logs it.
func TestValidateWarnsAboutTheSchedule(t *testing.T) {
	monthly := strings.Replace(testCatalogYAML, "period: {kind: daily}", "period: {kind: monthly}", 1)
	monthly = strings.Replace(monthly, "precision: integer, aggregation: count}", "precision: integer, aggregation: count, type: reservation}", 1)
	catalog := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(catalog, []byte(monthly), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"USAGEPIPE_CATALOG": catalog, "USAGEPIPE_CONNECT_URL": "http://127.0.0.1:1/public/v1",
		"USAGEPIPE_CONNECT_API_KEY": testAPIKey}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-validate"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("valid configuration refused: %v\n%s", err, out.String())
	}
	for _, want := range []string{"warning: product PRD-000-000-001 (API_CALLS): reservation items are reported per monthly period",
		"warning: product PRD-000-000-001 (CPU_HOURS, STORAGE_GB): calendar-month periods", "configuration ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out.String())
		}
	}

	var logs bytes.Buffer
	c, err := events.LoadCatalog(catalog)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(nil, Options{Catalog: c, ConnectURL: env["USAGEPIPE_CONNECT_URL"], ConnectAPIKey: testAPIKey,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.checkSchedules()
	if n := strings.Count(logs.String(), "scheduling advice"); n != 2 {
		t.Errorf("%d warnings logged, want 2:\n%s", n, logs.String())
	}
}

// TestAFailingStartNamesTheSubmitterOnce: an invalid configuration and a start that fails after connecting
// (the metrics address is taken) both end in an error that starts with "submitter: " and names it once.
func TestAFailingStartNamesTheSubmitterOnce(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{})
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	vars := map[string]string{"USAGEPIPE_CONNECT_API_KEY": testAPIKey, "USAGEPIPE_NATS_URL": env.srv.URL()}
	for _, args := range [][]string{
		{"--catalog", env.catalogPath},
		{"-validate", "--catalog", env.catalogPath},
		{"stray-argument"},
		{"--catalog", env.catalogPath, "--connect-url", env.api.URL + "/public/v1", "--metrics-addr", taken.Addr().String()},
	} {
		err := Run(context.Background(), args, func(k string) string { return vars[k] }, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "submitter: ") || strings.Count(err.Error(), "submitter:") != 1 {
			t.Errorf("%v: want an error naming the submitter once, have %v", args, err)
		}
	}
}

// TestValidateOperatorListener: an operator API on a wide address needs keys; keys print redacted.
func TestValidateOperatorListener(t *testing.T) {
	catalog := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(catalog, []byte(testCatalogYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"USAGEPIPE_CATALOG": catalog, "USAGEPIPE_CONNECT_URL": "http://127.0.0.1:1/public/v1",
		"USAGEPIPE_CONNECT_API_KEY": testAPIKey}
	var out bytes.Buffer
	err := Run(context.Background(), []string{"-validate", "--operator-addr", ":9104"}, func(k string) string { return env[k] }, &out)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("a wide operator address without keys: %v", err)
	}
	out.Reset()
	env["USAGEPIPE_OPERATOR_KEYS"] = "alice=operator-key-0123456789"
	if err := Run(context.Background(), []string{"-validate", "--operator-addr", ":9104"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("with keys: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "operator-key-0123456789") {
		t.Errorf("-validate printed an operator key:\n%s", out.String())
	}
}
