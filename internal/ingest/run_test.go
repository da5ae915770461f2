package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger and the reads of a test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func noEnv(string) string { return "" }

func TestRunValidateChecksConfigAndCatalog(t *testing.T) {
	var out bytes.Buffer
	err := ingest.Run(context.Background(), []string{"-validate", "--catalog", catalogPath, "--api-keys", "k-secret"}, noEnv, &out)
	if err != nil || !strings.Contains(out.String(), "configuration ok") {
		t.Fatalf("want ok, have %v:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "k-secret") {
		t.Errorf("-validate printed an API key:\n%s", out.String())
	}
	out.Reset()
	env := map[string]string{"USAGEPIPE_CATALOG": "testdata/missing.yaml", "USAGEPIPE_PARTITIONS": "0"}
	err = ingest.Run(context.Background(), []string{"-validate"}, func(k string) string { return env[k] }, &out)
	if err == nil || !strings.Contains(err.Error(), "--catalog") || !strings.Contains(err.Error(), "--partitions") {
		t.Fatalf("want errors about --catalog and --partitions, have %v", err)
	}
}

// TestRunValidateWarnsAboutTheSchedule: a catalog whose reservation item is on monthly periods is valid,
// and -validate prints the scheduling advice it goes against.
func TestRunValidateWarnsAboutTheSchedule(t *testing.T) {
	b, err := os.ReadFile(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	reserved := filepath.Join(t.TempDir(), "catalog.yaml")
	text := strings.Replace(string(b), "aggregation: sum", "aggregation: sum\n        type: reservation", 1)
	if err := os.WriteFile(reserved, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ingest.Run(context.Background(), []string{"-validate", "--catalog", reserved, "--api-keys", "k"}, noEnv, &out); err != nil {
		t.Fatalf("valid configuration refused: %v\n%s", err, out.String())
	}
	for _, want := range []string{"warning: product PRD-TEST-0001 (UNITS): reservation items are reported per monthly period", "configuration ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunServesUntilCancelledAndNeverLogsKeys(t *testing.T) {
	nats := natsembedtest.Start(t)
	const key = "run-test-key-0123"
	env := map[string]string{"USAGEPIPE_NATS_URL": nats.URL(), "USAGEPIPE_API_KEYS": key, "USAGEPIPE_PARTITIONS": "4"}
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(ctx, []string{"--http-addr", "127.0.0.1:0", "--catalog", catalogPath}, func(k string) string { return env[k] }, &out)
	}()
	base := "http://" + listenAddr(t, &out, done)
	r, err := postTo(testContext(t), base, ingest.MediaCloudEvent, mustJSON(t, goodEvent("run-1", asset(1))), "Authorization", "Bearer "+key)
	if err != nil || r.code != http.StatusOK {
		t.Fatalf("post: %v %d %s", err, r.code, r.raw)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if strings.Contains(out.String(), key) {
		t.Errorf("the logs contain the API key:\n%s", out.String())
	}
}

// listenAddr waits for Run's "ingest listening" log line and returns its address.
func listenAddr(t *testing.T, out *syncBuffer, done <-chan error) string {
	t.Helper()
	ctx := testContext(t)
	for ctx.Err() == nil {
		for _, line := range strings.Split(out.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "ingest listening" {
				return rec.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned before listening: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("Run never listened")
	return ""
}

// TestAFailingStartNamesIngestOnce: an invalid configuration and a start that fails after connecting (the
// HTTP address is taken) both end in an error that starts with "ingest: " and names ingest once.
func TestAFailingStartNamesIngestOnce(t *testing.T) {
	nats := natsembedtest.Start(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	env := map[string]string{"USAGEPIPE_NATS_URL": nats.URL(), "USAGEPIPE_API_KEYS": "k", "USAGEPIPE_PARTITIONS": "4"}
	for _, args := range [][]string{
		{"--partitions", "0"},
		{"stray-argument"},
		{"-validate", "--partitions", "0"},
		{"--catalog", catalogPath, "--http-addr", taken.Addr().String()},
	} {
		err := ingest.Run(testContext(t), args, func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "ingest: ") || strings.Count(err.Error(), "ingest:") != 1 {
			t.Errorf("%v: want an error naming ingest once, have %v", args, err)
		}
	}
}
