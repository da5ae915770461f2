package otlpmap

import (
	"encoding/hex"
	"fmt"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// CountLogs is the number of log records of req.
func CountLogs(req *collogspb.ExportLogsServiceRequest) int {
	n := 0
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			n += len(sl.GetLogRecords())
		}
	}
	return n
}

// Logs maps every log record of req, in order, and gives each to emit.
func (m *Mapper) Logs(req *collogspb.ExportLogsServiceRequest, emit Emit) {
	i := 0
	for _, rl := range req.GetResourceLogs() {
		res := rl.GetResource().GetAttributes()
		source, srej := sourceOf(res, events.SignalLogs)
		var base identity
		base.attrs(res)
		for _, sl := range rl.GetScopeLogs() {
			scope := identity{b: append([]byte(nil), base.b...)}
			scope.scope(sl.GetScope())
			for _, rec := range sl.GetLogRecords() {
				w := where{resource: res, scope: sl.GetScope(), attrs: rec.GetAttributes(), body: rec.GetBody()}
				e, rej := m.logEvent(&w, rec, scope.b)
				e.Source = source
				if srej != nil {
					rej = srej
				}
				emit(i, e, rej)
				i++
			}
		}
	}
}

// logEvent maps one log record; prefix is the identity of its resource and scope.
func (m *Mapper) logEvent(w *where, rec *logspb.LogRecord, prefix []byte) (events.Event, *events.Rejection) {
	var e events.Event
	e.ID = logID(rec, prefix)
	what := "log record"
	if rec.GetEventName() != "" {
		what = fmt.Sprintf("log record with event_name %q", clip(rec.GetEventName()))
	}
	r, rej := pick(w, what, m.logsByName[rec.GetEventName()], m.logsAny)
	if rej != nil {
		return e, rej
	}
	if r.ID != "" {
		if e.ID, rej = textField(w, r.ID, "id"); rej != nil {
			return e, rej
		}
	}
	if rej = r.fill(w, &e); rej != nil {
		return e, rej
	}
	if e.Data.Quantity, rej = decimalField(w, r.Quantity, r.precision, events.ReasonBadQuantity, "quantity"); rej != nil {
		return e, rej
	}
	t := rec.GetTimeUnixNano()
	if t == 0 {
		t = rec.GetObservedTimeUnixNano()
	}
	if t == 0 || t > 1<<63-1 {
		return e, &events.Rejection{Reason: events.ReasonMissingField, Field: "time_unix_nano", Message: "the log record has neither a time nor an observed time"}
	}
	e.Time = time.Unix(0, int64(t)).UTC()
	e.TraceParent = traceParent(rec.GetTraceId(), rec.GetSpanId(), rec.GetFlags())
	return e, nil
}

// logID is "l-" and the hash of the record's identity after prefix (its resource and scope).
func logID(rec *logspb.LogRecord, prefix []byte) string {
	id := identity{b: append(make([]byte, 0, len(prefix)+256), prefix...)}
	id.str(rec.GetEventName())
	id.u64(rec.GetTimeUnixNano())
	id.u64(rec.GetObservedTimeUnixNano())
	id.u64(uint64(rec.GetSeverityNumber()))
	id.str(rec.GetSeverityText())
	id.value(rec.GetBody())
	id.attrs(rec.GetAttributes())
	id.bytes(rec.GetTraceId())
	id.bytes(rec.GetSpanId())
	return id.sum("l-")
}

// traceParent is the W3C traceparent of a record's trace and span ids, or "" when either is not valid.
func traceParent(traceID, spanID []byte, flags uint32) string {
	if len(traceID) != 16 || len(spanID) != 8 || allZero(traceID) || allZero(spanID) {
		return ""
	}
	return "00-" + hex.EncodeToString(traceID) + "-" + hex.EncodeToString(spanID) + "-" + hex.EncodeToString([]byte{byte(flags)})
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
