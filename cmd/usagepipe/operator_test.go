package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/pipelinetest"
)

// statusCheck runs `usagepipe status --check` as a process and returns its exit code and output.
func statusCheck(t *testing.T, natsURL string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "status", "--check")
	cmd.Env = append(os.Environ(), childVar+"=1", "USAGEPIPE_NATS_URL="+natsURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatal(err)
	return 0, ""
}

// TestOperatorCommands: explain and usage answer from a running pipeline; status --check exits 0 while all
// is well and 1 once the aggregator is gone (no partition has an owner), naming the problem.
func TestOperatorCommands(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	stopAgg := w.StartAggregator("a1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	e := pipelinetest.Event("cli-1", pipelinetest.FastProduct, "AS-0500-0000-0001", "UNITS", "4.75", t0)
	w.Publish(e)
	w.WaitAccepted(pipelinetest.FastProduct, t0, 0, 60*time.Second)
	env := func(k string) string {
		return map[string]string{"USAGEPIPE_NATS_URL": w.NATS.URL(), "USAGEPIPE_CONNECT_URL": w.ConnectURL,
			"USAGEPIPE_CONNECT_API_KEY": pipelinetest.APIKey}[k]
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"explain", "--source", e.Source, "--id", e.ID, "--subject", e.Subject,
		"--time", t0.Format(time.RFC3339Nano), "--json"}, env, &out)
	var ev struct {
		Found    bool
		Counting struct {
			File struct {
				ConnectStatus string `json:"connect_status"`
			}
		}
	}
	if err != nil || json.Unmarshal(out.Bytes(), &ev) != nil || !ev.Found || ev.Counting.File.ConnectStatus != "accepted" {
		t.Fatalf("explain: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"usage", "--subject", e.Subject}, env, &out); err != nil ||
		!strings.Contains(out.String(), "4.75") || !strings.Contains(out.String(), "owner a1") {
		t.Fatalf("usage: %v\n%s", err, out.String())
	}
	var code int
	var text string
	w.WaitFor(30*time.Second, "status --check to pass", func() bool {
		code, text = statusCheck(t, w.NATS.URL())
		return code == 0
	})
	stopAgg()
	w.WaitFor(30*time.Second, "status --check to fail", func() bool {
		code, text = statusCheck(t, w.NATS.URL())
		return code == 1 && strings.Contains(text, "no_owner")
	})
	t.Logf("status --check failing:\n%s", text)
}
