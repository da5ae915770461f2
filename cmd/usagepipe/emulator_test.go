package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// startEmulator runs `usagepipe emulator args…` and returns its base URL and a stop function that waits
// for it to end.
func startEmulator(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"emulator", "--addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, w)
		_ = w.Close()
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "emulator ready "); ok {
				ready <- url
			}
		}
		close(ready)
	}()
	url, ok := <-ready
	if !ok {
		cancel()
		t.Fatalf("emulator ended before it was ready: %v", <-done)
	}
	return url, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator: %v", err)
		}
	}
}

func TestEmulatorCommandServesAndPersists(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	const key = "SU-123-456-789:k"
	base, stop := startEmulator(t, "--state", state, "--api-key", key, "--manual", "--fault", "files.create=commit-drop")
	c, err := usageapi.New(base, key)
	if err != nil {
		t.Fatal(err)
	}
	req := usageapi.CreateFileRequest{ExternalID: "cli-1", Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}}
	f, _, err := c.FindOrCreateFile(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	base, stop = startEmulator(t, "--state", state, "--api-key", key)
	defer stop()
	c, _ = usageapi.New(base, key)
	again, created, err := c.FindOrCreateFile(t.Context(), req)
	if err != nil || created || again.ID != f.ID {
		t.Fatalf("after restart: %v, created %v, %s; want %s", err, created, again.ID, f.ID)
	}
	if _, err := c.Files().Collect(t.Context()); err != nil {
		t.Fatal(err)
	}
	bad, _ := usageapi.New(base, "SU-000-000-000:nope", usageapi.WithRetry(usageapi.NoRetry))
	if _, err := bad.Files().Collect(t.Context()); !usageapi.IsUnauthorized(err) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestEmulatorCommandValidates(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"--reject-share", "2"},
		{"--fault", "files.create"},
		{"--fault", "no.route=500"},
		{"--fault", "files.create=teapot"},
		{"--catalog", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if err := runEmulator(context.Background(), append(args, "--validate"), env, io.Discard); err == nil {
			t.Errorf("%v: want a configuration error", args)
		}
	}
	pipeline := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(pipeline, []byte(pipelineCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	args := []string{"--validate", "--api-key", "SU-1:secret", "--fault", "*=503*2", "--events-catalog", pipeline, "--auto-assets"}
	if err := runEmulator(context.Background(), args, env, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "secret") {
		t.Errorf("--validate printed an API key: %s", out.String())
	}
}

const pipelineCatalog = `
products:
  - id: PRD-100-200-300
    name: Cloud Storage
    schema: QT
    currency: EUR
    contracts: [CRD-10001]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 48h
    items:
      - {mpn: STORAGE-GB-HOURS, name: Storage, unit: GB-hour, precision: decimal(4), aggregation: sum}
`

func TestEmulatorCommandServesHealthzAndReadyz(t *testing.T) {
	base, stop := startEmulator(t)
	defer stop()
	root := strings.TrimSuffix(base, "/public/v1")
	var out strings.Builder
	for _, path := range []string{"/healthz", "/readyz"} {
		if err := run(t.Context(), []string{"healthcheck", root + path}, func(string) string { return "" }, &out); err != nil {
			t.Fatalf("healthcheck of the emulator's %s: %v", path, err)
		}
	}
	if err := run(t.Context(), []string{"healthcheck", root + "/public/v1/usage/files"}, func(string) string { return "" }, &out); err == nil {
		t.Fatal("healthcheck passed on an unauthenticated API route; want the 401 to fail it")
	}
}

// Without --api-key the emulator takes any key, so it serves on a loopback address only; beyond loopback
// it needs --api-key, and then refuses another key.
func TestEmulatorOnTheNetworkNeedsAKey(t *testing.T) {
	err := run(t.Context(), []string{"emulator", "--addr", "0.0.0.0:0"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "--api-key") {
		t.Fatalf("emulator on every interface without a key: want a refusal naming --api-key, have %v", err)
	}
	const key = "SU-123-456-789:k"
	base, stop := startEmulator(t, "--addr", "0.0.0.0:0", "--api-key", key)
	defer stop()
	c, err := usageapi.New(base, "SU-123-456-789:another")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetFile(t.Context(), "UF-2026-01-0000-0001"); !usageapi.IsUnauthorized(err) {
		t.Errorf("another key: want 401, have %v", err)
	}
}
