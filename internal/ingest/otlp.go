package ingest

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"

	"github.com/usagepipe/usagepipe/internal/otlpmap"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// otlpAPI is POST /v1/logs or POST /v1/metrics: an OTLP/HTTP export request in protobuf or JSON, whose log
// records (data points) become events by the catalog's OTLP rules (otlpmap). It answers as OTLP/HTTP asks,
// in the request's encoding: 200 with an Export…ServiceResponse, whose partial_success counts the records
// (points) rejected and names the reasons, when the request was read (all rejected included: retrying
// would not help); failures with a google.rpc.Status, 400 for a body that is not an export request, and
// 429 or 503 with Retry-After only for causes a retry can cure.
type otlpAPI struct {
	signal events.OTLPSignal
	enc    otlpmap.Encoding
	err    error // the content type is neither otlpmap.MediaProtobuf nor otlpmap.MediaJSON
	mapper *otlpmap.Mapper
}

func newLogsAPI(s *Service, r *http.Request) api { return newOTLPAPI(s, r, events.SignalLogs) }

func newMetricsAPI(s *Service, r *http.Request) api { return newOTLPAPI(s, r, events.SignalMetrics) }

func newOTLPAPI(s *Service, r *http.Request, signal events.OTLPSignal) *otlpAPI {
	a := &otlpAPI{signal: signal, mapper: s.otlp}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case otlpmap.MediaProtobuf:
		a.enc = otlpmap.Protobuf
	case otlpmap.MediaJSON:
		a.enc = otlpmap.JSON
	default:
		a.err = fmt.Errorf("content type %q: OTLP/HTTP takes %s or %s", clipHeader(ct), otlpmap.MediaProtobuf, otlpmap.MediaJSON)
	}
	return a
}

func (a *otlpAPI) media() error { return a.err }

// decode reads the export request and maps its records (points), each passed to add.
func (a *otlpAPI) decode(body []byte, maxBatch int, add addFunc) error {
	if a.signal == events.SignalLogs {
		req, err := otlpmap.DecodeLogs(body, a.enc)
		if err != nil {
			return &bodyError{http.StatusBadRequest, err.Error()}
		}
		if n := otlpmap.CountLogs(req); n > maxBatch {
			return tooManyItems(n, maxBatch, "log records")
		}
		a.mapper.Logs(req, otlpmap.Emit(add))
		return nil
	}
	req, err := otlpmap.DecodeMetrics(body, a.enc)
	if err != nil {
		return &bodyError{http.StatusBadRequest, err.Error()}
	}
	if n := otlpmap.CountPoints(req); n > maxBatch {
		return tooManyItems(n, maxBatch, "data points")
	}
	a.mapper.Metrics(req, otlpmap.Emit(add))
	return nil
}

func tooManyItems(n, limit int, what string) error {
	return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"%d %s in one request, more than %d (--max-batch): send smaller batches (the Collector's batch processor: send_batch_max_size)", n, what, limit)}
}

// results answers 200 with the signal's export response; rejected records make its partial success.
func (a *otlpAPI) results(w http.ResponseWriter, b *batch, c resultCounts) int {
	var msg proto.Message
	summary := rejectionSummary(b.results, c.rejected, a.items())
	if a.signal == events.SignalLogs {
		resp := &collogspb.ExportLogsServiceResponse{}
		if c.rejected > 0 {
			resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: int64(c.rejected), ErrorMessage: summary}
		}
		msg = resp
	} else {
		resp := &colmetricspb.ExportMetricsServiceResponse{}
		if c.rejected > 0 {
			resp.PartialSuccess = &colmetricspb.ExportMetricsPartialSuccess{RejectedDataPoints: int64(c.rejected), ErrorMessage: summary}
		}
		msg = resp
	}
	return a.write(w, http.StatusOK, msg)
}

// items names what the signal's requests carry.
func (a *otlpAPI) items() string {
	if a.signal == events.SignalLogs {
		return "log records"
	}
	return "data points"
}

// failure answers code with a google.rpc.Status carrying msg.
func (a *otlpAPI) failure(w http.ResponseWriter, code int, msg string) int {
	return a.write(w, code, &spb.Status{Code: rpcCode(code), Message: msg})
}

// write answers code with m in the request's encoding.
func (a *otlpAPI) write(w http.ResponseWriter, code int, m proto.Message) int {
	var body []byte
	var err error
	if a.enc == otlpmap.JSON {
		body, err = protojson.Marshal(m)
	} else {
		body, err = proto.Marshal(m)
	}
	if err != nil { // cannot happen with these messages
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", a.enc.ContentType())
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}

// rpcCode is the gRPC status code of an HTTP failure, as google.rpc.Status carries it.
func rpcCode(httpCode int) int32 {
	switch httpCode {
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		return 8 // RESOURCE_EXHAUSTED
	case http.StatusServiceUnavailable:
		return 14 // UNAVAILABLE
	case http.StatusRequestTimeout:
		return 4 // DEADLINE_EXCEEDED
	case http.StatusUnsupportedMediaType, http.StatusBadRequest:
		return 3 // INVALID_ARGUMENT
	}
	return 2 // UNKNOWN
}

// maxSummaryReasons bounds the reasons a partial success's message details.
const maxSummaryReasons = 8

// rejectionSummary is the error message of a partial success: how many items were rejected and, per reason
// in order of first appearance, how many and the first one's position and message.
func rejectionSummary(results []events.Result, rejected int, items string) string {
	if rejected == 0 {
		return ""
	}
	type reasonCount struct {
		reason events.Reason
		n      int
		first  *events.Result
	}
	var counts []*reasonCount
	byReason := map[events.Reason]*reasonCount{}
	for i := range results {
		res := &results[i]
		if res.Status != events.StatusRejected {
			continue
		}
		rc := byReason[res.Reason]
		if rc == nil {
			rc = &reasonCount{reason: res.Reason, first: res}
			byReason[res.Reason] = rc
			counts = append(counts, rc)
		}
		rc.n++
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d of %d %s rejected, nothing stored for them:", rejected, len(results), items)
	for i, rc := range counts {
		if i == maxSummaryReasons {
			fmt.Fprintf(&sb, " and %d more reasons", len(counts)-i)
			break
		}
		fmt.Fprintf(&sb, " %s ×%d (#%d: %s);", rc.reason, rc.n, rc.first.Index, rc.first.Message)
	}
	return strings.TrimSuffix(sb.String(), ";")
}
