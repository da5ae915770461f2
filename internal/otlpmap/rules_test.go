package otlpmap

import (
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// rulesCatalog has a rule for each field a mapping can fill: a CR product's amount and contract, a TR
// product's tier, a unique_count item's attribute, an explicit id, and two rules of one event name told
// apart by a match.
const rulesCatalog = `
products:
  - id: PRD-CR
    name: Cost
    schema: CR
    currency: USD
    contracts: [CRD-1, CRD-2]
    period: {kind: monthly}
    items:
      - {mpn: USERS, precision: integer, aggregation: unique_count, unique_attribute: user_id}
      - {mpn: MINUTES, precision: decimal(2), aggregation: sum}
  - id: PRD-TR
    name: Tiered
    schema: TR
    currency: USD
    contracts: [CRD-3]
    period: {kind: monthly}
    items:
      - {mpn: CALLS, precision: integer, aggregation: sum}
      - {mpn: CALLS-EU, precision: integer, aggregation: sum}
otlp:
  - signal: logs
    product: PRD-CR
    item: MINUTES
    event_name: session
    subject: resource.subscription
    contract: resource.contract
    quantity: attribute.minutes
    amount: attribute.cost
    id: attribute.session.id
  - signal: logs
    product: PRD-CR
    item: USERS
    event_name: login
    subject: resource.subscription
    quantity: 1
    amount: "0"
    attributes: {user_id: attribute.user.id}
  - {signal: logs, product: PRD-TR, item: CALLS, event_name: call, match: {attribute.region: us}, subject: resource.subscription, quantity: 1, tier: attribute.tier}
  - {signal: logs, product: PRD-TR, item: CALLS-EU, event_name: call, match: {attribute.region: eu}, subject: resource.subscription, quantity: 1, tier: attribute.tier}
  - {signal: metrics, product: PRD-TR, metric: calls.count, item: CALLS, subject: attribute.subscription, tier: scope.tier}
`

func kv(k string, v any) *commonpb.KeyValue {
	a := &commonpb.AnyValue{}
	switch v := v.(type) {
	case string:
		a.Value = &commonpb.AnyValue_StringValue{StringValue: v}
	case int:
		a.Value = &commonpb.AnyValue_IntValue{IntValue: int64(v)}
	case float64:
		a.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v}
	}
	return &commonpb.KeyValue{Key: k, Value: a}
}

// mapped is what a mapper emitted for one record or point.
type mapped struct {
	e   events.Event
	rej *events.Rejection
}

func collect(out *[]mapped) Emit {
	return func(i int, e events.Event, rej *events.Rejection) { *out = append(*out, mapped{e, rej}) }
}

// Log records fill every field their rule names: contract, amount, an explicit id, tier, unique_count
// attributes, and a match picks between rules of one event name; a record whose field is missing or bad is
// rejected with the field's reason (a double amount must be exactly a decimal). The same id attribute makes the same event id whatever else differs.
func TestLogRulesFillEveryField(t *testing.T) {
	c, err := events.ParseCatalog([]byte(rulesCatalog))
	if err != nil {
		t.Fatal(err)
	}
	at := uint64(time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	tenth, fifth := 0.1, 0.2 // variables: constants would add exactly
	rec := func(name string, attrs ...*commonpb.KeyValue) *logspb.LogRecord {
		return &logspb.LogRecord{EventName: name, TimeUnixNano: at, Attributes: attrs}
	}
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{kv("service.name", "app"), kv("subscription", "AS-1"), kv("contract", "CRD-2")}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{
			rec("session", kv("session.id", "s-42"), kv("minutes", "12.5"), kv("cost", "3.75")),
			rec("session", kv("session.id", "s-42"), kv("minutes", 7), kv("cost", 0.5), kv("other", "x")),
			rec("login", kv("user.id", "u-17")),
			rec("call", kv("region", "us"), kv("tier", 2)),
			rec("call", kv("region", "eu"), kv("tier", "3")),
			rec("call", kv("region", "ap"), kv("tier", 1)),
			rec("call", kv("region", "us"), kv("tier", 0)),
			rec("session", kv("minutes", "1"), kv("cost", "1")),
			rec("session", kv("session.id", "s-43"), kv("minutes", "1"), kv("cost", tenth+fifth)),
		}}},
	}}}
	var out []mapped
	New(c).Logs(req, collect(&out))
	if len(out) != 9 {
		t.Fatalf("%d results, want 9", len(out))
	}
	for i, m := range out[:5] {
		if m.rej != nil || m.e.Source != "otlp://app/logs" || m.e.Subject != "AS-1" {
			t.Fatalf("record %d: %+v %+v", i, m.e, m.rej)
		}
	}
	s := out[0].e
	if s.ID != "s-42" || s.Data.Product != "PRD-CR" || s.Data.Item != "MINUTES" || s.Data.Contract != "CRD-2" ||
		s.Data.Quantity.String() != "12.5" || s.Data.Amount == nil || s.Data.Amount.String() != "3.75" {
		t.Errorf("session: %+v", s)
	}
	if again := out[1].e; again.ID != "s-42" || again.Data.Amount.String() != "0.5" || again.Data.Quantity.String() != "7" {
		t.Errorf("the same session id: %+v", again)
	}
	if l := out[2].e; l.Data.Item != "USERS" || l.Data.Attributes["user_id"] != "u-17" || l.Data.Quantity.String() != "1" || l.Data.Amount.String() != "0" {
		t.Errorf("login: %+v", l)
	}
	if us, eu := out[3].e, out[4].e; us.Data.Item != "CALLS" || us.Data.Tier != 2 || eu.Data.Item != "CALLS-EU" || eu.Data.Tier != 3 {
		t.Errorf("calls: us %+v, eu %+v", us, eu)
	}
	for i, want := range map[int]struct {
		reason events.Reason
		field  string
	}{
		5: {events.ReasonUnmapped, ""},
		6: {events.ReasonBadTier, "attribute.tier"},
		7: {events.ReasonMissingField, "attribute.session.id"},
		8: {events.ReasonBadAmount, "attribute.cost"},
	} {
		if r := out[i].rej; r == nil || r.Reason != want.reason || r.Field != want.field {
			t.Errorf("record %d: %+v, want %s on %q", i, r, want.reason, want.field)
		}
	}
}

// A data point's rule reads its tier from the scope and its subject from the point's attributes.
func TestMetricRulesReadScopeAndPointAttributes(t *testing.T) {
	c, err := events.ParseCatalog([]byte(rulesCatalog))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	sum := &metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA, IsMonotonic: true,
		DataPoints: []*metricspb.NumberDataPoint{{Attributes: []*commonpb.KeyValue{kv("subscription", "AS-9")},
			StartTimeUnixNano: uint64(at.Add(-time.Minute).UnixNano()), TimeUnixNano: uint64(at.UnixNano()),
			Value: &metricspb.NumberDataPoint_AsInt{AsInt: 4}}}}
	req := &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{kv("service.name", "app")}},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: &commonpb.InstrumentationScope{Name: "s", Attributes: []*commonpb.KeyValue{kv("tier", 2)}},
			Metrics: []*metricspb.Metric{{Name: "calls.count", Data: &metricspb.Metric_Sum{Sum: sum}}}}},
	}}}
	var out []mapped
	New(c).Metrics(req, collect(&out))
	if len(out) != 1 || out[0].rej != nil {
		t.Fatalf("results %+v", out)
	}
	if e := out[0].e; e.Subject != "AS-9" || e.Data.Tier != 2 || e.Data.Quantity.String() != "4" || e.Source != "otlp://app/metrics" || !e.Time.Equal(at) {
		t.Errorf("point: %+v", e)
	}
}
