package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// testOptions runs a stack on free loopback ports in dir, with periods of a few seconds and an emulator
// that processes and accepts at once.
func testOptions(t *testing.T, dir string) devstack.Options {
	t.Helper()
	c, err := devstack.SampleCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithFixedPeriods(5*time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	return devstack.Options{
		DataDir: dir, Catalogs: c, Partitions: 2,
		IngestAddr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", NATSAddr: "127.0.0.1:0", OperatorAddr: "127.0.0.1:0", ConsoleAddr: "127.0.0.1:0",
		ProcessingTime: -1, AcceptAfter: -1, LogOutput: &syncBuffer{},
	}
}

// start starts a stack and stops it at the end of the test; on failure the services' log is printed.
func start(t *testing.T, o devstack.Options) *devstack.Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			lines := strings.Split(o.LogOutput.(*syncBuffer).String(), "\n")
			t.Logf("services' log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return st
}

// post sends one event to the stack's ingest endpoint with the given headers and checks it is accepted.
func post(t *testing.T, st *devstack.Stack, e events.Event, header http.Header) {
	t.Helper()
	body, _ := json.Marshal(e)
	req, _ := http.NewRequest(http.MethodPost, st.URLs().Ingest+"/v1/events", bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/events: %v", err)
	}
	defer resp.Body.Close()
	var answer struct{ Accepted int }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || answer.Accepted != 1 {
		t.Fatalf("POST /v1/events: status %d, accepted %d, err %v", resp.StatusCode, answer.Accepted, err)
	}
}

// waitFor polls cond every 100ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// acceptedFiles returns the emulator's accepted files of a product.
func acceptedFiles(st *devstack.Stack, product string) []usageapi.FileDetail {
	var out []usageapi.FileDetail
	for _, f := range st.Emulator().Files() {
		if f.Product.ID == product && f.Status == usageapi.FileStatusAccepted {
			out = append(out, f)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the services' concurrent log writes.
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
