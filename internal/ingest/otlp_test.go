package ingest_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// logsRequest is an export request of service shop/billing for subscription i with records.
func logsRequest(i int, records ...*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	res := &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", "billing"),
		strAttr("service.namespace", "shop"), strAttr("customer.asset", asset(i))}}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{Resource: res,
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: records}}}}}
}

// record is a usage log record of units at.
func record(at time.Time, units string, attrs ...*commonpb.KeyValue) *logspb.LogRecord {
	return &logspb.LogRecord{EventName: "usage", TimeUnixNano: uint64(at.UnixNano()), Attributes: append([]*commonpb.KeyValue{strAttr("units", units)}, attrs...)}
}

// otlpReply is an answer of an OTLP route.
type otlpReply struct {
	code        int
	contentType string
	retryAfter  string
	body        []byte
}

// postOTLP sends body to path with the content type and headers (name, value pairs), the test key unless
// one is given.
func (s *stack) postOTLP(t *testing.T, path, contentType string, body []byte, headers ...string) otlpReply {
	t.Helper()
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodPost, s.http.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+otlpKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return otlpReply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), raw}
}

func mustProto(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A request whose records are partly bad is a partial success: the bad ones are counted, their reasons
// named, and nothing is stored for them; the good one is stored. A key cannot write another service's
// records (forbidden_source), and a record without its subject is refused (missing_field).
func TestOTLPPartialSuccessNamesTheReasons(t *testing.T) {
	s := startStack(t, otlpConfig())
	at := time.Now().Add(-time.Minute)
	good := logsRequest(1, record(at, "2"), record(at, "1.005"), &logspb.LogRecord{EventName: "nope", TimeUnixNano: uint64(at.UnixNano())})
	noSubject := logsRequest(1, record(at, "3"))
	noSubject.ResourceLogs[0].Resource.Attributes = noSubject.ResourceLogs[0].Resource.Attributes[:2]
	otherService := logsRequest(1, record(at, "4"))
	otherService.ResourceLogs[0].Resource.Attributes[0] = strAttr("service.name", "payroll")
	good.ResourceLogs = append(good.ResourceLogs, noSubject.ResourceLogs[0], otherService.ResourceLogs[0])
	r := s.postOTLP(t, "/v1/logs", "application/x-protobuf", mustProto(t, good))
	var resp collogspb.ExportLogsServiceResponse
	if r.code != http.StatusOK || r.contentType != "application/x-protobuf" || proto.Unmarshal(r.body, &resp) != nil {
		t.Fatalf("answer %d %s %q", r.code, r.contentType, r.body)
	}
	ps := resp.GetPartialSuccess()
	for _, want := range []string{"4 of 5 log records rejected", "bad_quantity ×1 (#1:", "unmapped ×1 (#2:", "missing_field ×1 (#3:",
		"customer.asset", "forbidden_source ×1 (#4:", "otlp://shop/payroll/logs"} {
		if !strings.Contains(ps.GetErrorMessage(), want) {
			t.Errorf("partial success message %q lacks %q", ps.GetErrorMessage(), want)
		}
	}
	if ps.GetRejectedLogRecords() != 4 {
		t.Errorf("rejected %d, want 4", ps.GetRejectedLogRecords())
	}
	if keys := storedKeys(s.readStored(t)); len(keys) != 1 {
		t.Errorf("stored %v, want only the good record", keys)
	}
}

// OTLP/JSON is read with OTLP's rules: hex trace and span ids (kept as the event's traceparent), 64-bit
// integers as strings, enums as names; unknown fields are ignored. The answer is JSON too. A gzip body is
// read like any other.
func TestOTLPJSONWithHexTraceIDs(t *testing.T) {
	s := startStack(t, otlpConfig())
	at := time.Now().Add(-time.Minute).UnixNano()
	body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}},
	  {"key":"service.namespace","value":{"stringValue":"shop"}},{"key":"customer.asset","value":{"stringValue":"%s"}}]},
	  "scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"%d","eventName":"usage","severityNumber":"SEVERITY_NUMBER_INFO",
	  "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","flags":1,"futureField":{"x":1},
	  "attributes":[{"key":"units","value":{"intValue":"7"}}]}]}]}]}`, asset(1), at)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(body))
	zw.Close()
	r := s.postOTLP(t, "/v1/logs", "application/json", zipped.Bytes(), "Content-Encoding", "gzip")
	if r.code != http.StatusOK || r.contentType != "application/json" || strings.TrimSpace(string(r.body)) != "{}" {
		t.Fatalf("answer %d %s %q", r.code, r.contentType, r.body)
	}
	stored := s.readStored(t)
	if len(stored) != 1 || len(stored[0].events) != 1 {
		t.Fatalf("stored %+v", stored)
	}
	e := stored[0].events[0]
	if e.TraceParent != "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01" || e.Data.Quantity.String() != "7" {
		t.Errorf("stored %+v", e)
	}
	// The same record as protobuf is the same event: a retry in the other encoding is a duplicate.
	var req collogspb.ExportLogsServiceRequest
	b64 := strings.NewReplacer(`"5b8efff798038103d269b633813fc60c"`, `"W47/95gDgQPSabYzgT/GDA=="`, `"eee19b7ec3c1b174"`, `"7uGbfsPBsXQ="`).Replace(body)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(b64), &req); err != nil {
		t.Fatal(err)
	}
	if r := s.postOTLP(t, "/v1/logs", "application/x-protobuf", mustProto(t, &req)); r.code != http.StatusOK {
		t.Fatalf("protobuf resend: %d", r.code)
	}
	if keys := storedKeys(s.readStored(t)); len(keys) != 1 {
		t.Errorf("stored keys %v after the resend, want the one", keys)
	}
}

// Failures are google.rpc.Status messages in the request's encoding: 400 for a body that is not an export
// request, 401 without a key, 415 for another content type, 413 beyond --max-batch records, and the
// retryable 503 (with Retry-After) only when nothing could be stored.
func TestOTLPFailuresAreStatusMessages(t *testing.T) {
	cfg := otlpConfig()
	cfg.MaxBatch = 2
	s := startStack(t, cfg)
	at := time.Now().Add(-time.Minute)
	three := mustProto(t, logsRequest(1, record(at, "1"), record(at, "2"), record(at, "3")))
	for _, c := range []struct {
		name, path, contentType string
		body                    []byte
		headers                 []string
		code                    int
		rpc                     int32
		want                    string
	}{
		{"not protobuf", "/v1/logs", "application/x-protobuf", []byte("\xff\xff\xff"), nil, 400, 3, "not an export request"},
		{"not JSON", "/v1/metrics", "application/json", []byte("{"), nil, 400, 3, "not an export request"},
		{"no key", "/v1/logs", "application/x-protobuf", three, []string{"Authorization", ""}, 401, 16, "API key"},
		{"content type", "/v1/logs", "text/plain", three, nil, 415, 3, "application/x-protobuf"},
		{"too many", "/v1/logs", "application/x-protobuf", three, nil, 413, 8, "3 log records"},
	} {
		r := s.postOTLP(t, c.path, c.contentType, c.body, c.headers...)
		var st spb.Status
		var err error
		if r.contentType == "application/json" {
			err = protojson.Unmarshal(r.body, &st)
		} else {
			err = proto.Unmarshal(r.body, &st)
		}
		if r.code != c.code || err != nil || st.GetCode() != c.rpc || !strings.Contains(st.GetMessage(), c.want) || r.retryAfter != "" {
			t.Errorf("%s: %d %s %+v (%v), want %d with code %d saying %q and no Retry-After", c.name, r.code, r.contentType, &st, err, c.code, c.rpc, c.want)
		}
	}
	s.nats.Shutdown()
	r := s.postOTLP(t, "/v1/logs", "application/x-protobuf", mustProto(t, logsRequest(1, record(at, "1"))))
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Errorf("JetStream down: %d, Retry-After %q; want 503 with Retry-After", r.code, r.retryAfter)
	}
}

// The request's trace context continues into the stored events, as on /v1/events: a record without its own
// trace context carries the request span's trace.
func TestOTLPTraceContextContinuesIntoThePackets(t *testing.T) {
	s := startStack(t, otlpConfig())
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := s.postOTLP(t, "/v1/logs", "application/x-protobuf", mustProto(t, logsRequest(1, record(time.Now().Add(-time.Minute), "1"))),
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if r.code != http.StatusOK {
		t.Fatalf("answer %d %q", r.code, r.body)
	}
	stored := s.readStored(t)
	if len(stored) != 1 || !strings.Contains(stored[0].events[0].TraceParent, traceID) || !strings.Contains(stored[0].msg.Header.Get("traceparent"), traceID) {
		t.Errorf("stored %+v, want the request's trace in the event and the packet", stored)
	}
}

// data.cumulative is OTLP ingest's: a CloudEvent that carries it is rejected.
func TestCloudEventsCannotCarryACumulativeSeries(t *testing.T) {
	s := startStack(t, otlpConfig())
	e := goodEvent("c-1", asset(1))
	e.Source = "/meters/a"
	e.Data["cumulative"] = map[string]string{"series": "x", "start": time.Now().Add(-time.Hour).Format(time.RFC3339)}
	r := s.post(t, "application/cloudevents+json", mustJSON(t, e), "Authorization", "Bearer other-key")
	if got := r.statuses(); len(got) != 1 || got[0] != "rejected:"+string(events.ReasonBadCumulative) {
		t.Errorf("statuses %v (%s)", got, r.raw)
	}
}
