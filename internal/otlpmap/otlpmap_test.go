package otlpmap

import (
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// A double is a quantity only when it is certainly the decimal the producer meant, within the precision.
func TestExactDouble(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	for _, c := range []struct {
		f         float64
		precision int
		want      string // "" for an error
	}{
		{1.5, 2, "1.5"}, {0.1, 1, "0.1"}, {0.1, 0, ""}, {tenth + fifth, 8, ""}, {1e20, 0, "100000000000000000000"},
		{123456789012345, 0, "123456789012345"}, {1234567890123456, 0, ""}, {-2.25, 2, "-2.25"}, {0.125, 2, ""},
	} {
		d, err := exactDouble(c.f, c.precision)
		if got := d.String(); c.want == "" && err == nil || c.want != "" && (err != nil || got != c.want) {
			t.Errorf("exactDouble(%v, %d) = %s, %v; want %q", c.f, c.precision, got, err, c.want)
		}
	}
}

// OTLP/JSON's hex ids become the base64 protojson reads, wherever they are keys; the same text inside a
// string value, or after an escaped quote, is left alone.
func TestHexIDsToBase64(t *testing.T) {
	in := `{"traceId" : "0a0b", "x":"\"spanId\":\"0c\"", "k":{"spanId":"ff"}, "s":"traceId"}`
	out, err := hexIDsToBase64([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"traceId" : "` + base64.StdEncoding.EncodeToString([]byte{10, 11}) + `", "x":"\"spanId\":\"0c\"", "k":{"spanId":"` +
		base64.StdEncoding.EncodeToString([]byte{255}) + `"}, "s":"traceId"}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if _, err := hexIDsToBase64([]byte(`{"traceId":"zz"}`)); err == nil || !strings.Contains(err.Error(), "not hex") {
		t.Errorf("bad hex: %v", err)
	}
}

// A record's id does not depend on the order of its attributes, and does on their values.
func TestLogIDIgnoresAttributeOrder(t *testing.T) {
	a := &commonpb.KeyValue{Key: "a", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}}}
	b := &commonpb.KeyValue{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "1"}}}
	b2 := &commonpb.KeyValue{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}}}
	id1 := logID(&logspb.LogRecord{TimeUnixNano: 5, Attributes: []*commonpb.KeyValue{a, b}}, nil)
	id2 := logID(&logspb.LogRecord{TimeUnixNano: 5, Attributes: []*commonpb.KeyValue{b, a}}, nil)
	id3 := logID(&logspb.LogRecord{TimeUnixNano: 5, Attributes: []*commonpb.KeyValue{a, b2}}, nil)
	if id1 != id2 || id1 == id3 || !strings.HasPrefix(id1, "l-") || len(id1) != 34 {
		t.Errorf("ids %s %s %s", id1, id2, id3)
	}
}
