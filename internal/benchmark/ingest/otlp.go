package ingest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"

	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// benchOTLPBodies builds the OTLP/HTTP protobuf bodies of a round: the round's events (benchRoundEvents) as log
// records that the bench catalog's OTLP rules map back to the same usage (event_name the item, attributes
// subscription and quantity), batchSize a request, each request from one of 8 collector services.
func benchOTLPBodies(meters []eventgen.Meter, round, numEvents, batchSize int) ([][]byte, error) {
	next := benchRoundEvents(meters, round)
	observed := uint64(time.Now().UnixNano()) + uint64(round)
	var bodies [][]byte
	for from := 0; from < numEvents; from += batchSize {
		records := make([]*logspb.LogRecord, 0, batchSize)
		for range min(batchSize, numEvents-from) {
			records = append(records, benchRecord(next(), observed))
		}
		res := &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			benchAttr("service.name", "collector-"+strconv.Itoa(from/batchSize%8)), benchAttr("host.name", "node-1")}}
		req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{Resource: res,
			ScopeLogs: []*logspb.ScopeLogs{{Scope: &commonpb.InstrumentationScope{Name: "metering"}, LogRecords: records}}}}}
		b, err := proto.Marshal(req)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b)
	}
	return bodies, nil
}

// benchRecord is e as a log record.
func benchRecord(e events.Event, observed uint64) *logspb.LogRecord {
	return &logspb.LogRecord{
		EventName:            e.Data.Item,
		TimeUnixNano:         uint64(e.Time.UnixNano()),
		ObservedTimeUnixNano: observed,
		Attributes: []*commonpb.KeyValue{
			benchAttr("subscription", e.Subject), benchAttr("quantity", e.Data.Quantity.String()), benchAttr("usage.id", e.ID),
			benchAttr("region", e.Data.Attributes["region"]), benchAttr("host", e.Data.Attributes["host"]),
		},
	}
}

func benchAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// checkOTLPAnswer fails on an answer with rejected records.
func checkOTLPAnswer(body []byte) error {
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("bench ingest: OTLP answer: %w", err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() > 0 {
		return fmt.Errorf("bench ingest: OTLP records rejected: %s", ps.GetErrorMessage())
	}
	return nil
}

// benchOTLPRules are the bench catalog's OTLP rules: one per item, by event_name.
const benchOTLPRules = `
otlp:
  - {signal: logs, product: PRD-100-200-300, item: STORAGE-GB-HOURS, event_name: STORAGE-GB-HOURS, subject: attribute.subscription, quantity: attribute.quantity, marketplace: MP-91673}
  - {signal: logs, product: PRD-100-200-300, item: STORAGE-PEAK-GB, event_name: STORAGE-PEAK-GB, subject: attribute.subscription, quantity: attribute.quantity, marketplace: MP-91673}
  - {signal: logs, product: PRD-100-200-300, item: API-REQUESTS, event_name: API-REQUESTS, subject: attribute.subscription, quantity: attribute.quantity, marketplace: MP-91673}
`
