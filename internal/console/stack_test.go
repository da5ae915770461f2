package console_test

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
)

// The sample world's first product, its contract, and a subscription of it.
const (
	compute         = "PRD-276-377-101"
	computeContract = "CRD-00100-00100-00001"
	computeAsset    = "AS-1010-0000-0001"
	zone            = "Europe/Madrid"
)

// testCatalogs is the sample world with short fixed periods (10 s, closed 2 s after their end), its products
// in Europe/Madrid so that pages show a product's own zone beside UTC.
func testCatalogs(t *testing.T) devstack.Catalogs {
	t.Helper()
	c, err := devstack.SampleCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithFixedPeriods(10*time.Second, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	products := c.Pipeline.Products
	for i := range products {
		products[i].TimeZone, products[i].Location = zone, loc
	}
	if c.Pipeline, err = events.NewCatalogWithRules(products, c.Pipeline.OTLPRules()); err != nil {
		t.Fatal(err)
	}
	return c
}

// stackOptions are a dev stack's options for a test: every address on a free loopback port, the simulator
// on, the emulated provider accepting at once.
func stackOptions(t *testing.T, dir string, c devstack.Catalogs) devstack.Options {
	t.Helper()
	return devstack.Options{DataDir: dir, Catalogs: c, Partitions: 2, Simulate: true, SimulateEvery: time.Second,
		IngestAddr: "127.0.0.1:0", EmulatorAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", NATSAddr: "127.0.0.1:0",
		OperatorAddr: "127.0.0.1:0", ConsoleAddr: "127.0.0.1:0", ProcessingTime: -1, AcceptAfter: -1, LogOutput: &syncBuffer{}}
}

// startStack starts a dev stack, stopped at the end of the test (or by the stop it returns); on failure the
// services' last log lines are printed.
func startStack(t *testing.T, o devstack.Options) (*devstack.Stack, func()) {
	t.Helper()
	st, err := devstack.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("devstack: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := st.Stop(); err != nil {
				t.Errorf("devstack stop: %v", err)
			}
			if t.Failed() {
				lines := strings.Split(o.LogOutput.(*syncBuffer).String(), "\n")
				t.Logf("services' log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		})
	}
	t.Cleanup(stop)
	return st, stop
}

// usageEvent is an event of the first product's subscription.
func usageEvent(id, item, quantity string, at time.Time) events.Event {
	return events.Event{SpecVersion: "1.0", ID: id, Source: "/browser-test", Type: events.EventType, Subject: computeAsset,
		Time: at.UTC(), Data: events.Usage{Product: compute, Item: item, Quantity: events.MustDecimal(quantity)}}
}

// post sends events to the stack's ingest in one request and returns its answer.
func post(t *testing.T, st *devstack.Stack, evs ...events.Event) events.IngestResponse {
	t.Helper()
	body, _ := json.Marshal(evs)
	resp, err := http.Post(st.URLs().Ingest+"/v1/events", "application/cloudevents-batch+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r events.IngestResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("ingest answer: %v", err)
	}
	return r
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
