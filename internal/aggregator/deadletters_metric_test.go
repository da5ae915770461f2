package aggregator

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// scrape returns tel's /metrics page.
func scrape(t *testing.T, tel *telemetry.Telemetry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestDeadLettersAreCountedFromZero: a worker exposes usagepipe_dead_letters_total{stage="aggregator"} for
// every reason of its dead letters from the start, at zero, and counts those it commits.
func TestDeadLettersAreCountedFromZero(t *testing.T) {
	env := newTestEnv(t, 2)
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{Service: "aggregator", LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown() })
	o := env.testOptions("w")
	o.MeterProvider = tel.MeterProvider()
	startWorker(t, env.conn, o)
	page := scrape(t, tel)
	for _, r := range deadLetterReasons {
		if line := `usagepipe_dead_letters_total{reason="` + string(r) + `",stage="aggregator"} 0`; !strings.Contains(page, line) {
			t.Errorf("at start, metrics lack %s", line)
		}
	}
	at := time.Now()
	env.publishEvents(usageEvent("x1", "AS-1", "NO-SUCH-ITEM", "1", at), usageEvent("x2", "AS-2", "NO-SUCH-ITEM", "1", at))
	env.publishRaw(0, events.KindEvents, []byte("{not json\n"))
	waitCaughtUp(t, env.conn, env.partitions, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		page = scrape(t, tel)
		if strings.Contains(page, `usagepipe_dead_letters_total{reason="unknown_item",stage="aggregator"} 2`) &&
			strings.Contains(page, `usagepipe_dead_letters_total{reason="bad_json",stage="aggregator"} 1`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters not counted:\n%s", grepLines(page, "usagepipe_dead_letters"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(page, sub string) string {
	var out []string
	for line := range strings.Lines(page) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
