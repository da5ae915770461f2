package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReconcileValidatesSinceAndAssets(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets.json")
	if err := os.WriteFile(assets, []byte(`{"not": "an array"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := []string{"reconcile", "-validate", "--connect-api-key", "SU-1:x", "--catalog", "../../deploy/catalog.example.yaml",
		"--since", "-1h", "--assets", assets}
	err := run(context.Background(), args, func(string) string { return "" }, &out)
	if err == nil || !strings.Contains(err.Error(), "--since -1h") || !strings.Contains(err.Error(), "--assets") {
		t.Errorf("want --since and --assets reported, have %v", err)
	}
	if err := os.WriteFile(assets, []byte(`[{"id":"AS-1","product":{"id":"PRD-000-000-002"},"params":[{"id":"subscription_id","value":"s"}]}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	args[len(args)-3] = "24h"
	if err := run(context.Background(), args, func(string) string { return "" }, &out); err != nil {
		t.Errorf("valid --since and --assets: %v\n%s", err, out.String())
	}
}
