package events

import (
	"strings"
	"testing"
	"time"
)

const otlpCatalog = `
products:
  - id: PRD-1
    name: P
    schema: QT
    currency: USD
    contracts: [CRD-1]
    period: {kind: monthly}
    items:
      - {mpn: UNITS, precision: decimal(2), aggregation: sum}
      - {mpn: PEAK, precision: integer, aggregation: max}
    otlp:
      - {signal: metrics, metric: app.units, item: UNITS, subject: resource.customer}
      - {signal: metrics, metric: app.peak, item: PEAK, subject: attribute.customer, gauge: value}
otlp:
  - signal: logs
    product: PRD-1
    item: UNITS
    event_name: usage
    match: {attribute.kind: api}
    subject: resource.customer
    quantity: 1
    id: attribute.usage.id
`

// OTLP rules are read from the catalog, globally and per product (the product implied), in that order;
// MarshalFile leaves them out (they are ingest's, the fold does not depend on them).
func TestCatalogOTLPRules(t *testing.T) {
	c, err := ParseCatalog([]byte(otlpCatalog))
	if err != nil {
		t.Fatal(err)
	}
	rules := c.OTLPRules()
	if len(rules) != 3 || rules[0].Signal != SignalLogs || rules[0].Quantity != "1" || rules[0].Match["attribute.kind"] != "api" ||
		rules[1].Product != "PRD-1" || rules[1].Quantity != OTLPValue || rules[2].Gauge != GaugeValue {
		t.Fatalf("rules %+v", rules)
	}
	data, err := c.MarshalFile()
	if err != nil || strings.Contains(string(data), "otlp") {
		t.Errorf("MarshalFile: %s %v", data, err)
	}
	if k, key := OTLPRef("resource.customer.id").Kind(); k != RefResource || key != "customer.id" {
		t.Errorf("Kind: %s %s", k, key)
	}
}

// Every problem of every rule is reported, with its path.
func TestCatalogOTLPRuleProblems(t *testing.T) {
	bad := strings.NewReplacer(
		"{signal: metrics, metric: app.units, item: UNITS, subject: resource.customer}",
		"{signal: metrics, metric: app.units, item: PEAK, subject: body}",
		"gauge: value}", "gauge: value, histogram: p99}",
		"quantity: 1\n", "quantity: lots\n    tier: 2\n",
	).Replace(otlpCatalog) + "  - {signal: traces, product: PRD-1, item: UNITS, subject: resource.c}\n  - {signal: logs, product: PRD-9, item: X}\n"
	_, err := ParseCatalog([]byte(bad))
	var ce *CatalogError
	if err == nil || !asCatalogError(err, &ce) {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{
		"products[0].otlp[0].item: item PEAK aggregates with max",
		"products[0].otlp[0].subject: body is a log record's",
		"products[0].otlp[1].histogram",
		`otlp[0].quantity: "lots" is neither a reference nor a decimal`,
		"otlp[0].tier: product PRD-1 is QT",
		`otlp[1].signal: "traces"`,
		`otlp[2].product: "PRD-9"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

func asCatalogError(err error, ce **CatalogError) bool {
	e, ok := err.(*CatalogError)
	*ce = e
	return ok
}

// data.cumulative survives the packet encoding, counts in SameContent, and is validated.
func TestCumulativeRoundTripAndValidation(t *testing.T) {
	c, err := ParseCatalog([]byte(otlpCatalog))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	e := Event{SpecVersion: SpecVersion, ID: "c-1", Source: "otlp://svc/metrics", Type: EventType, Subject: "AS-0000-0000-0001",
		Time: now.Add(-1e9), Data: Usage{Product: "PRD-1", Item: "UNITS", Quantity: MustDecimal("8"),
			Cumulative: &Cumulative{Series: "abc", Start: now.Add(-3600e9)}}}
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, rej := DecodeEvent(b)
	if rej != nil || !SameContent(&e, &back) || back.Data.Cumulative == nil || !back.Data.Cumulative.Start.Equal(e.Data.Cumulative.Start) {
		t.Fatalf("round trip of %s: %+v %v", b, back, rej)
	}
	other := back
	other.Data.Cumulative = &Cumulative{Series: "abd", Start: e.Data.Cumulative.Start}
	if SameContent(&e, &other) {
		t.Error("another series is the same content")
	}
	if rej := c.Validate(&e, now); rej != nil {
		t.Errorf("valid cumulative event: %v", rej)
	}
	for _, bad := range []func(*Event){
		func(e *Event) { e.Data.Cumulative.Start = e.Time },
		func(e *Event) { e.Data.Cumulative.Series = "" },
		func(e *Event) { e.Data.Item = "PEAK" },
		func(e *Event) { a := MustDecimal("1"); e.Data.Amount = &a },
	} {
		v := e
		cum := *e.Data.Cumulative
		v.Data.Cumulative = &cum
		bad(&v)
		if rej := c.Validate(&v, now); rej == nil || rej.Reason != ReasonBadCumulative && rej.Reason != ReasonBadAmount {
			t.Errorf("%+v: %v, want bad_cumulative", v.Data, rej)
		}
	}
}
