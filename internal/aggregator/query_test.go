package aggregator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestUsageQueryAnsweredByTheOwner: the owner of a partition answers with its state as of the last message
// applied; with no worker running, the query fails with ErrNoOwner rather than answering anything.
func TestUsageQueryAnsweredByTheOwner(t *testing.T) {
	env := newTestEnv(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub := "AS-0001-0001-0001"
	p := events.Partition(sub, env.partitions)
	if _, err := QueryUsage(ctx, env.conn, p, sub); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("no worker: %v, want ErrNoOwner", err)
	}
	o := env.testOptions("w1")
	o.Catalog = hourCatalog(t) // periods stay open for the test
	stop := startWorker(t, env.conn, o)
	at := time.Now().UTC()
	env.publishEvents(usageEvent("e1", sub, "UNITS", "1.50", at), usageEvent("e2", sub, "UNITS", "2.25", at),
		usageEvent("e3", sub, "PEAK", "7", at), usageEvent("e4", "AS-OTHER", "UNITS", "9", at))
	last := env.publishRaw(p, events.KindTick, nil)
	var a UsageAnswer
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		a, err = QueryUsage(ctx, env.conn, p, sub)
		if err == nil && a.Applied >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no up-to-date answer: %+v, %v", a, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(a.Keys) != 2 || a.Member != "w1" || a.Partition != p || a.Clock.IsZero() {
		t.Fatalf("answer %+v", a)
	}
	units, peak := a.Keys[1], a.Keys[0]
	if units.Item != "UNITS" || units.Quantity.Cmp(events.MustDecimal("3.75")) != 0 || units.Events != 2 || units.Closed {
		t.Errorf("UNITS %+v", units)
	}
	if peak.Item != "PEAK" || peak.Quantity.Cmp(events.MustDecimal("7")) != 0 {
		t.Errorf("PEAK %+v", peak)
	}
	stop()
	if _, err := QueryUsage(ctx, env.conn, p, sub); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("after the worker stopped: %v, want ErrNoOwner", err)
	}
}

// hourCatalog is the test catalog with hourly periods.
func hourCatalog(t *testing.T) *events.Catalog {
	t.Helper()
	c, err := events.ParseCatalog([]byte(`products:
  - id: PRD-TEST-0001
    name: Test meter
    schema: QT
    currency: USD
    contracts: [CRD-T1]
    period: {kind: hourly}
    allowed_lateness: 5m
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
      - {mpn: PEAK, name: Peak, unit: unit, precision: integer, aggregation: max}
`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
