package main

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// benchOTLPBodies builds the OTLP/HTTP protobuf bodies of a round: numEvents log records that the bench
// catalog's OTLP rules map to the same usage as newBenchEvent's events (event_name the item, attributes
// subscription and quantity), batchSize a request, each request from one of 8 collector services.
func benchOTLPBodies(round, numEvents, batchSize int) ([][]byte, error) {
	now := time.Now().UTC()
	var bodies [][]byte
	for from := 0; from < numEvents; from += batchSize {
		records := make([]*logspb.LogRecord, 0, batchSize)
		for i := from; i < min(from+batchSize, numEvents); i++ {
			records = append(records, benchRecord(round, i, now))
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

func benchRecord(round, i int, now time.Time) *logspb.LogRecord {
	it := benchItems[i%len(benchItems)]
	return &logspb.LogRecord{
		EventName:            it.item,
		TimeUnixNano:         uint64(now.Add(-time.Duration(i%3600) * time.Second).UnixNano()),
		ObservedTimeUnixNano: uint64(now.UnixNano()) + uint64(round),
		Attributes: []*commonpb.KeyValue{
			benchAttr("subscription", fmt.Sprintf("AS-%04d-%04d-%04d", 1000+i%300, 2000+i%7, 3000+i%11)),
			benchAttr("quantity", it.quantity), benchAttr("usage.id", fmt.Sprintf("evt-%02d-%08d", round, i)),
			benchAttr("region", "eu-west-1"), benchAttr("host", fmt.Sprintf("node-%d", i%50)),
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
