package pipeline

import (
	"testing"
	"time"
)

func TestResultLine(t *testing.T) {
	r := Result{Sustained: 41234.4, Raw: 60000, IngestP99: 12345 * time.Microsecond, E2EP50: 1500 * time.Millisecond,
		E2EP99: 4321600 * time.Microsecond, RSSGrowthPct: 3.26}
	want := "RESULT pipeline_events_per_s=41234 raw_publish_msgs_per_s=60000 ratio=0.69 ingest_p99_ms=12.3 e2e_p50_ms=1500 e2e_p99_ms=4322 rss_growth_pct=3.3"
	if have := r.Line(); have != want {
		t.Errorf("Line() =\n%s\nwant\n%s", have, want)
	}
	if (Result{}).Ratio() != 0 {
		t.Error("a ratio without a raw rate is not 0")
	}
}

func TestRSSGrowthCountsPipelineProcessesOnly(t *testing.T) {
	start := []usage{{name: "nats", rss: 100}, {name: "ingest", rss: 200}, {name: nameEmulator, rss: 100}, {name: nameBench, rss: 100}}
	end := []usage{{name: "nats", rss: 103}, {name: "ingest", rss: 190}, {name: nameEmulator, rss: 500}, {name: nameBench, rss: 900}}
	if g, of := rssGrowth(start, end); g != 3 || of != "nats" {
		t.Errorf("growth %v of %q, want 3 of nats", g, of)
	}
}
