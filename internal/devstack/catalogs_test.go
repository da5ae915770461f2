package devstack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func sample(t *testing.T) Catalogs {
	t.Helper()
	c, err := SampleCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSampleWorldAgreesWithConnect(t *testing.T) {
	c := sample(t)
	if err := c.Check(); err != nil {
		t.Fatalf("the sample catalogs disagree:\n%v", err)
	}
	for _, p := range c.Pipeline.Products {
		if p.Period.Kind != events.PeriodFixed || p.Period.Every != time.Minute || p.AllowedLateness > 15*time.Second {
			t.Errorf("product %s: want fixed 1m periods with a few seconds of lateness, have %s every %v, lateness %v",
				p.ID, p.Period.Kind, p.Period.Every, p.AllowedLateness)
		}
	}
}

func TestCheckReportsWhatConnectLacks(t *testing.T) {
	c := sample(t)
	connect := *c.Connect
	connect.Products = append(connect.Products[:0:0], connect.Products...)
	connect.Products[0].Items = connect.Products[0].Items[1:] // drop CPU-HOURS
	connect.Contracts = connect.Contracts[1:]                 // drop the first product's contract
	connect.Assets = connect.Assets[3:]                       // drop the first product's subscriptions
	err := Catalogs{Pipeline: c.Pipeline, Connect: &connect}.Check()
	for _, want := range []string{"item CPU-HOURS", "contract CRD-00100-00100-00001", "no asset"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: want a problem about %q, have %v", want, err)
		}
	}
}

// Every reading the simulator can produce passes ingest's validation: a rejected simulated event would
// only show that the sample world is inconsistent.
func TestSimulatedReadingsAreValid(t *testing.T) {
	c := sample(t)
	gen := eventgen.New(eventgen.Options{Seed: 7, Source: simulatorSource})
	now := time.Now()
	ms := meters(c)
	if len(ms) < 10 {
		t.Fatalf("want a dozen meters or more, have %d", len(ms))
	}
	for i, m := range ms {
		for j := range 50 {
			b, _ := json.Marshal(gen.Event(m, now.Add(-time.Duration(j)*time.Second)))
			e, rej := events.DecodeEvent(b)
			if rej == nil {
				rej = c.Pipeline.Validate(&e, now)
			}
			if rej != nil {
				t.Fatalf("meter %d (%s %s %s): %s rejected: %v", i, m.Product.ID, m.Item.MPN, m.Subject, b, rej)
			}
		}
	}
}

func TestCurlSendsTheExampleEvent(t *testing.T) {
	c := sample(t)
	cmd := c.Curl("http://127.0.0.1:8080")
	for _, want := range []string{"http://127.0.0.1:8080/v1/events", "application/cloudevents+json",
		`"id":"curl-'"$(date +%s)-$RANDOM"'"`, `"time":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"`, c.Pipeline.Products[0].ID} {
		if !strings.Contains(cmd, want) {
			t.Errorf("curl lacks %s:\n%s", want, cmd)
		}
	}
}
