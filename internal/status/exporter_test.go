package status_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/pipelinetest"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// scrape is the exporter's Prometheus exposition after one read: sample name{labels} → value.
func scrape(t *testing.T, tel *telemetry.Telemetry) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]float64{}
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, "usagepipe_status_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func newExporter(t *testing.T, w *pipelinetest.World, o status.Options) (*status.Exporter, *telemetry.Telemetry) {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{Service: "submitter", LogOutput: io.Discard,
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown() })
	o.Catalog, o.Partitions = w.Catalog, w.Partitions
	e, err := status.NewExporter(status.Reader{Bus: w.Conn, Options: o}, tel.MeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	return e, tel
}

// TestExporterShowsOwnersBacklogAndConsumers: with a running aggregator every partition is owned and its
// backlog drains to zero; with the aggregator killed, nobody owns them and the backlog of the partition
// that gets an event counts it, in messages. The submitter's durable consumers and the live services show.
func TestExporterShowsOwnersBacklogAndConsumers(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	agg := w.StartAggregatorChild("k1")
	w.StartSubmitter("s1")
	e, tel := newExporter(t, w, status.Options{})
	if m := scrape(t, tel); len(m) != 2 || m[`usagepipe_status_reads_total{result="ok"}`] != 0 {
		t.Fatalf("before the first read: %v, want only the reads counters at 0", m)
	}
	t0 := time.Now().UTC()
	w.Publish(pipelinetest.Event("e1", fast, "AS-0200-0000-0001", "UNITS", "1", t0))
	w.WaitAccepted(fast, t0, 0, 60*time.Second)
	var m map[string]float64
	w.WaitFor(20*time.Second, "every partition owned, nothing pending", func() bool {
		if err := e.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		m = scrape(t, tel)
		owned, backlog := 0.0, 0.0
		for p := range 4 {
			owned += m[`usagepipe_status_partition_owned{partition="`+strconv.Itoa(p)+`"}`]
			backlog += m[`usagepipe_status_partition_backlog_messages{partition="`+strconv.Itoa(p)+`"}`]
		}
		return owned == 4 && backlog == 0 && m[`usagepipe_status_services_alive{kind="aggregator"}`] == 1
	})
	consumers := 0
	for k := range m {
		if strings.HasPrefix(k, "usagepipe_status_consumer_pending_messages{") {
			consumers++
		}
	}
	if consumers < 2 || m[`usagepipe_status_services_alive{kind="submitter"}`] != 1 ||
		m[`usagepipe_status_periods_overdue{product="`+fast+`",stage="files"}`] != 0 || m["usagepipe_status_files_parked"] != 0 {
		t.Fatalf("healthy system: %v", m)
	}

	agg.Kill()
	sub := "AS-0200-0000-0002"
	w.Publish(pipelinetest.Event("e2", fast, sub, "UNITS", "1", time.Now()))
	p := strconv.Itoa(events.Partition(sub, w.Partitions))
	w.WaitFor(20*time.Second, "partition "+p+" unowned with one message of backlog", func() bool {
		if err := e.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		m = scrape(t, tel)
		return m[`usagepipe_status_partition_owned{partition="`+p+`"}`] == 0 &&
			m[`usagepipe_status_partition_backlog_messages{partition="`+p+`"}`] == 1
	})
	if m[`usagepipe_status_reads_total{result="ok"}`] < 2 || m["usagepipe_status_read_timestamp_seconds"] < float64(t0.Unix()) {
		t.Errorf("reads: %v", m)
	}
}

// TestExporterShowsParkedAndOverdueFiles: a file the provider rejects is parked, and its period overdue at
// the files stage.
func TestExporterShowsParkedAndOverdueFiles(t *testing.T) {
	w := pipelinetest.StartWith(t, 4, connectemu.ProviderPolicy{Auto: true, RejectShare: 1, RejectNote: "no such deal"})
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	e, tel := newExporter(t, w, status.Options{OverdueAfter: time.Second})
	w.Publish(pipelinetest.Event("p1", fast, "AS-0300-0000-0001", "UNITS", "1", time.Now()))
	w.WaitFor(60*time.Second, "a parked file and an overdue period", func() bool {
		if err := e.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		m := scrape(t, tel)
		return m["usagepipe_status_files_parked"] == 1 && m[`usagepipe_status_periods_overdue{product="`+fast+`",stage="files"}`] >= 1
	})
}
