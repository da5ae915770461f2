// Package otlpmap turns OpenTelemetry data sent over OTLP/HTTP (log records and metric data points) into
// usage events, by the OTLP rules of the catalog (events.OTLPRule; docs/events.md, "OTLP").
//
// # Model
//
// DecodeLogs and DecodeMetrics read an export request's body, protobuf or OTLP/JSON (hex trace and span ids,
// 64-bit integers as strings or numbers, enums as names or numbers; unknown fields ignored, as OTLP asks).
// A Mapper then walks the request's log records (or data points) in order, numbering them from 0, and gives
// each to its caller as an events.Event to validate and store, or as a rejection: no rule matches (unmapped),
// several do (ambiguous_mapping), the matched rule does not say how to bill the metric's kind
// (unsupported_metric), or a referenced value is missing or not exact.
//
// Each event's (source, id) is deterministic, so an exporter's retry of a request makes the same events and
// the pipeline's de-duplication counts them once:
//
//   - source: otlp://[<service.namespace>/]<service.name>/logs (or /metrics), from the resource. API keys are
//     bound to source prefixes (otlp://billing/ for both signals of service billing), so a key can only
//     write the records of the services it is bound to;
//   - a log record's id: the rule's id reference when it has one, else "l-" and 128 bits of the SHA-256 of
//     its identity: resource and scope (name, version, attributes), event name, times, severity, body,
//     attributes, trace and span id;
//   - a delta sum's (or histogram's) point and a gauge's point: "p-" and the hash of resource, scope, metric
//     name, point attributes, start and time. A point's identity is its series and interval: a second point
//     of one series and interval with another value is a conflict (the first stored wins), never more usage;
//   - a cumulative sum's point: "c-" and the hash of its series (resource, scope, metric name, point
//     attributes and start time; events.Cumulative.Series) and its time. Its quantity is the running total,
//     which the aggregator turns into the delta from the series' previous point.
//
// Attributes are hashed in key order, so their order in the request does not matter. Values are exact:
// an int is itself, a string is parsed as a decimal, a double is accepted only when it is exactly a decimal
// of at most 15 significant digits (the decimals every double round-trips) and at most the item's precision
// (events.AmountPrecision for amounts); anything else is rejected with bad_quantity (bad_amount).
//
// # Concurrency
//
// A Mapper is read-only once built and safe for concurrent use; it starts no goroutines.
package otlpmap
