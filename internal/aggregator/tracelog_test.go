package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestCommitLogsCarryTraceIDs checks that the logs of a commit carry its span's trace id: the debug line of a
// stored commit, and the line of a runner stopped by a failed one.
func TestCommitLogsCarryTraceIDs(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	env := newTestEnv(t, 1)
	var logs lockedBuffer
	o := env.testOptions("traced")
	o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	o.Logger = telemetry.NewLogger(&logs, "aggregator", slog.LevelDebug)
	ab := &ambiguousBus{Bus: env.conn}
	r := manualRunner(t, ab, o)
	env.publishEvents(usageEvent("l1", "AS-1", "UNITS", "1", time.Now().Add(time.Minute)))
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := commitSpans(exp)
	if len(spans) != 1 || logTraceID(t, &logs, "committed") != spans[0].SpanContext.TraceID().String() {
		t.Errorf("the committed line does not carry the commit span's trace id %v:\n%s", spans, logs.String())
	}
	ab.dropCommits.Store(true)
	env.publishEvents(usageEvent("l2", "AS-1", "UNITS", "1", time.Now().Add(time.Minute)))
	feedCtx, stopFeed := context.WithCancel(context.Background())
	defer stopFeed()
	go r.deps.feed.run(feedCtx)
	h := startRunner(context.Background(), r.deps, 0)
	deadline := time.Now().Add(30 * time.Second)
	for !h.stopped() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !h.stopped() || !errors.Is(h.err, bus.ErrAmbiguous) {
		t.Fatalf("runner over lost commits: stopped %v, err %v", h.stopped(), h.err)
	}
	spans = commitSpans(exp)
	if got := logTraceID(t, &logs, "partition runner failed"); got != spans[len(spans)-1].SpanContext.TraceID().String() {
		t.Errorf("the failure line carries trace id %q, want the failed commit's:\n%s", got, logs.String())
	}
}

// logTraceID returns the trace_id of the last log line with message msg.
func logTraceID(t *testing.T, logs *lockedBuffer, msg string) string {
	t.Helper()
	id := ""
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct {
			Msg     string `json:"msg"`
			TraceID string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			id = l.TraceID
		}
	}
	return id
}
