package otlpmap

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
)

// Encoding is how an OTLP/HTTP body is encoded.
type Encoding int

// Encodings of OTLP/HTTP.
const (
	Protobuf Encoding = iota // application/x-protobuf
	JSON                     // application/json
)

// Media types of OTLP/HTTP.
const (
	MediaProtobuf = "application/x-protobuf"
	MediaJSON     = "application/json"
)

// ContentType is the media type of the encoding.
func (e Encoding) ContentType() string {
	if e == JSON {
		return MediaJSON
	}
	return MediaProtobuf
}

// ErrDecode wraps every error of DecodeLogs and DecodeMetrics: the body is not an export request.
var ErrDecode = errors.New("otlp: body is not an export request")

// DecodeLogs reads an ExportLogsServiceRequest.
func DecodeLogs(body []byte, enc Encoding) (*collogspb.ExportLogsServiceRequest, error) {
	req := &collogspb.ExportLogsServiceRequest{}
	return req, unmarshal(body, enc, req)
}

// DecodeMetrics reads an ExportMetricsServiceRequest.
func DecodeMetrics(body []byte, enc Encoding) (*colmetricspb.ExportMetricsServiceRequest, error) {
	req := &colmetricspb.ExportMetricsServiceRequest{}
	return req, unmarshal(body, enc, req)
}

// jsonOptions ignore unknown fields: OTLP receivers must.
var jsonOptions = protojson.UnmarshalOptions{DiscardUnknown: true}

func unmarshal(body []byte, enc Encoding, m proto.Message) error {
	var err error
	if enc == JSON {
		if body, err = hexIDsToBase64(body); err == nil {
			err = jsonOptions.Unmarshal(body, m)
		}
	} else {
		err = proto.Unmarshal(body, m)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return nil
}

// idFields are the OTLP/JSON fields that hold hex ids, where protobuf's JSON mapping has base64.
var idFields = map[string]bool{"traceId": true, "spanId": true, "trace_id": true, "span_id": true}

// hexIDsToBase64 rewrites the values of idFields from OTLP/JSON's hex to the base64 protojson reads. It
// tokenizes strings (escapes included), so a key is told from a string value and nothing inside a string is
// touched; the JSON is otherwise checked by protojson. A body without such keys is returned as is.
func hexIDsToBase64(b []byte) ([]byte, error) {
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		end := stringEnd(b, i)
		if end < 0 {
			return b, nil // protojson reports it
		}
		key := string(b[i+1 : end])
		i = end
		if !idFields[key] {
			continue
		}
		vs, ve, ok := idValue(b, end+1)
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(string(b[vs:ve]))
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q is not hex", ErrDecode, key, clip(string(b[vs:ve])))
		}
		out = append(append(out, b[last:vs]...), base64.StdEncoding.EncodeToString(raw)...)
		last, i = ve, ve
	}
	if out == nil {
		return b, nil
	}
	return append(out, b[last:]...), nil
}

// stringEnd returns the index of the quote closing the string that opens at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// idValue finds, after a key ending before b[i], a ':' and a string without escapes; it returns where the
// string's content starts and ends. ok is false when the key is not followed by such a value.
func idValue(b []byte, i int) (start, end int, ok bool) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0, 0, false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false
	}
	e := stringEnd(b, i)
	if e < 0 {
		return 0, 0, false
	}
	for j := i + 1; j < e; j++ {
		if b[j] == '\\' {
			return 0, 0, false
		}
	}
	return i + 1, e, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
