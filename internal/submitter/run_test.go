package submitter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
