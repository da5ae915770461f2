package events

// TraceFieldsLen is the number of bytes the traceparent and tracestate attributes, with these values, add to
// an event's canonical encoding (MarshalJSON and packet lines); an empty value adds nothing. Ingest uses it to
// size packets as if the trace context it writes into events were absent.
func TraceFieldsLen(traceparent, tracestate string) int {
	var buf [128]byte
	n := len(appendOptional(buf[:0], `,"traceparent":`, traceparent))
	return n + len(appendOptional(buf[:0], `,"tracestate":`, tracestate))
}
